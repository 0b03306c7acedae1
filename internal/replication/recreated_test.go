package replication

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// TestRecreatedPublicationSaysHowToRecover (issue 10.5): a publication
// dropped under a running syncer stops it; re-creating the publication
// (what `cdc setup` does) does not help, because the slot decodes WAL from
// before the re-creation. The error must name what recovers it, and that
// recovery (advancing the slot) must actually work.
func TestRecreatedPublicationSaysHowToRecover(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.x (id int PRIMARY KEY)`, "public.x")
	h.start()
	h.db.Exec(t, `INSERT INTO public.x VALUES (1)`)
	_, commit := h.tx()
	h.ack(commit.Pos)

	h.db.Exec(t, `DROP PUBLICATION pub`)
	h.db.Exec(t, `INSERT INTO public.x VALUES (2)`) // decoded while the publication is missing
	err := h.runError()
	require.Contains(t, err.Error(), `publication "pub" does not exist`)
	require.Contains(t, err.Error(), "cdc setup creates it")

	// What setup does. The test server runs with synchronous_commit off, and
	// pg_replication_slot_advance stops at the flushed WAL: committed
	// asynchronously, the re-creation could still be unflushed when the slot
	// is advanced, which would leave the slot before it.
	h.db.Exec(t, `BEGIN; SET LOCAL synchronous_commit = on; CREATE PUBLICATION pub FOR TABLE public.x; COMMIT`)
	h.start()
	err = h.runError()
	require.Contains(t, err.Error(), `publication "pub" was dropped and re-created`)
	advance := fmt.Sprintf("SELECT pg_replication_slot_advance('%s', pg_current_wal_lsn());", h.cfg.Slot)
	require.Contains(t, err.Error(), advance)
	require.Contains(t, err.Error(), "cdc backfill --all --restart")

	h.waitSlotInactive()  // the walsender ends after the reader closed its connection
	h.db.Exec(t, advance) // the recovery the message gives
	h.db.Exec(t, `INSERT INTO public.x VALUES (3)`)
	h.start()
	changes, _ := h.tx()
	require.Len(t, changes, 1)
	require.Equal(t, stream.OpInsert, changes[0].Op)
	require.EqualValues(t, 3, changes[0].New["id"])
}

// runError waits for the running reader to stop with an error and closes it.
func (h *harness) runError() error {
	h.t.Helper()
	select {
	case err := <-h.done:
		require.Error(h.t, err)
		h.cancel()
		h.cancel = nil
		require.NoError(h.t, h.reader.Close())
		return err
	case <-time.After(30 * time.Second):
		h.t.Fatal("the reader did not stop")
	}
	return nil
}

// waitSlotInactive waits until no walsender holds the slot.
func (h *harness) waitSlotInactive() {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		var active bool
		err := h.db.Pool.QueryRow(context.Background(),
			`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, h.cfg.Slot).Scan(&active)
		return err == nil && !active
	}, 30*time.Second, 20*time.Millisecond, "the slot stayed active")
}
