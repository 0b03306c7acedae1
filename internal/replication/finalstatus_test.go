package replication

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCleanStopReportsTheFinalCheckpoint: after a clean stop the slot's
// confirmed_flush_lsn is the saved checkpoint's end, not where the last
// periodic status left it (issue 10.11). Status updates and heartbeats are
// made rare so only the final report can move the slot.
func TestCleanStopReportsTheFinalCheckpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.f (id int PRIMARY KEY)`, "public.f")
	h.cfg.StatusInterval, h.cfg.Heartbeat = time.Hour, time.Hour
	h.start()
	h.db.Exec(t, `INSERT INTO f VALUES (1)`)
	h.db.Exec(t, `INSERT INTO f VALUES (2)`)
	_, first := h.tx()
	_, second := h.tx()
	h.ack(first.Pos)
	h.ack(second.Pos)
	require.Less(t, h.confirmedFlush(), second.Pos.EndLSN, "the slot moved before the stop; the test proves nothing")

	h.stop()
	saved, err := h.store.Load(t.Context())
	require.NoError(t, err)
	require.Equal(t, second.Pos, saved)
	// Close waits for the server to show the report, but only for
	// finalConfirmWait: on a loaded machine the walsender may apply it
	// later. It applies the report before it exits on the closed
	// connection, and nothing else moves the slot here.
	h.waitSlotInactive()
	require.Equal(t, saved.EndLSN, h.confirmedFlush(), "confirmed_flush_lsn after a clean stop")
}
