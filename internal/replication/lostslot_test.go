package replication

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
)

// setServer sets a server setting with ALTER SYSTEM and reloads, resetting
// it when the test ends. The setting applies to the whole shared server:
// only tests without t.Parallel may use it (they run alone).
func setServer(t *testing.T, name, value string) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.AdminDSN(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "ALTER SYSTEM SET "+name+" = '"+value+"'")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "SELECT pg_reload_conf()")
	require.NoError(t, err)
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, pgtest.AdminDSN(t))
		require.NoError(t, err)
		defer admin.Close(ctx)
		_, err = admin.Exec(ctx, "ALTER SYSTEM RESET "+name)
		require.NoError(t, err)
		_, err = admin.Exec(ctx, "SELECT pg_reload_conf()")
		require.NoError(t, err)
	})
}

// TestInvalidatedSlotIsExplained: with a small max_slot_wal_keep_size, WAL
// churn and a CHECKPOINT while the syncer is stopped, the server
// invalidates the slot. The next run says so, what was lost and how to
// recover, instead of "cannot read from logical replication slot" alone
// (issue 10.10). Not parallel: it changes a server setting.
func TestInvalidatedSlotIsExplained(t *testing.T) {
	h := newHarness(t, `CREATE TABLE public.l (id int PRIMARY KEY); CREATE TABLE public.churn (x text)`, "public.l")
	h.start()
	h.db.Exec(t, `INSERT INTO l VALUES (1)`)
	_, commit := h.tx()
	h.ack(commit.Pos)
	h.stop()

	setServer(t, "max_slot_wal_keep_size", "1MB")
	require.Eventually(t, func() bool {
		for range 3 {
			h.db.Exec(t, `INSERT INTO churn SELECT repeat('x', 100) FROM generate_series(1, 20000)`)
			h.db.Exec(t, `SELECT pg_switch_wal()`)
		}
		h.db.Exec(t, `CHECKPOINT`)
		var status string
		require.NoError(t, h.db.Pool.QueryRow(context.Background(),
			`SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = $1`, h.cfg.Slot).Scan(&status))
		return status == "lost"
	}, 2*time.Minute, 10*time.Millisecond, "the server did not invalidate the slot")

	h.start()
	var err error
	select {
	case err = <-h.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the reader kept running on an invalidated slot")
	}
	h.cancel()
	h.cancel = nil
	require.ErrorIs(t, err, ErrSlotLost)
	for _, want := range []string{"wal_status = lost", "max_slot_wal_keep_size (1MB)", commit.Pos.String(),
		"cdc setup --resync", "source.on_slot_lost: resync"} {
		require.ErrorContains(t, err, want)
	}
}
