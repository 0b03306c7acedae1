package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ops"
)

// An idle, caught-up syncer's lag seconds do not grow with the age of its
// last delivery (U10): while a reader is active they are the server's flush
// lag; only a slot nobody reads, behind the WAL, shows the checkpoint's age.
func TestStatusLagSecondsOfIdleSyncerDoNotGrow(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ok@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	// The last delivery an hour ago, as on a syncer idle for an hour.
	e.DB.Exec(t, `UPDATE cdc.checkpoint SET updated_at = now() - interval '1 hour'`)
	e.DB.Exec(t, `SELECT pg_logical_emit_message(false, 'test', 'unpublished WAL')`)
	require.Eventually(t, func() bool {
		st, err := ops.ReadStatus(ctx, e.Cfg)
		return err == nil && st.Slot != nil && st.Slot.Active
	}, 30*time.Second, 20*time.Millisecond)
	st, err := ops.ReadStatus(ctx, e.Cfg)
	require.NoError(t, err)
	require.Less(t, st.LagSeconds, 60.0, "an active reader's lag is the server's flush lag, not the checkpoint's age")

	require.NoError(t, stop())
	e.DB.Exec(t, `UPDATE cdc.checkpoint SET updated_at = now() - interval '1 hour'`)
	// The test server runs with synchronous_commit off: a plain commit may
	// still sit in the WAL buffers, below pg_current_wal_lsn(), when status
	// reads it. This one is written before the commit returns.
	e.DB.Exec(t, `BEGIN; SET LOCAL synchronous_commit = on;
		INSERT INTO customers (email, marketing_opt_in) VALUES ('later@example.com', true); COMMIT`)
	st, err = ops.ReadStatus(ctx, e.Cfg)
	require.NoError(t, err)
	require.False(t, st.Slot.Active)
	require.Positive(t, st.Slot.LagBytes)
	require.Greater(t, st.LagSeconds, 3000.0, "a slot nobody reads: the checkpoint's age")
}
