package replication

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// TestStatusWhileDeliveryBlocked fills the queue and stops consuming: the
// reader must keep answering the server so wal_sender_timeout never fires,
// and then deliver everything once the consumer resumes.
func TestStatusWhileDeliveryBlocked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.q (id int PRIMARY KEY)`, "public.q")
	h.cfg.QueueSize = 1
	h.start()
	h.db.Exec(t, `INSERT INTO q SELECT generate_series(1, 100)`)
	require.Eventually(t, func() bool { return len(h.out) == 1 }, 10*time.Second, 20*time.Millisecond)

	replyTime := func() time.Time {
		var ts *time.Time
		err := h.db.Pool.QueryRow(context.Background(), `SELECT r.reply_time FROM pg_stat_replication r
			JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1`, h.cfg.Slot).Scan(&ts)
		if err != nil || ts == nil {
			return time.Time{}
		}
		return *ts
	}
	for range 3 { // three status updates while blocked
		before := replyTime()
		require.Eventually(t, func() bool { return replyTime().After(before) }, 5*time.Second, 20*time.Millisecond)
	}
	require.Len(t, h.out, 1, "still blocked")

	changes, commit := h.tx()
	require.Len(t, changes, 100)
	require.Equal(t, 100, commit.Pos.Index)
}

// TestDrainingIsJudgedOnTheReadersClock: reply requests a normal walsender
// sends (spaced apart) are answered; three in quick succession while work is
// in flight mean the server is shutting down and waits for us. Time is the
// reader's injected clock, so the test controls it.
func TestDrainingIsJudgedOnTheReadersClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewReader(Config{}, nil, Options{Now: func() time.Time { return now }})
	r.emitted, r.lastEmitted = true, stream.Position{CommitLSN: 0x90} // emitted, not acknowledged
	s := &session{r: r, dec: newDecoder(), walEnd: 0x100}
	for range 5 {
		now = now.Add(2 * time.Second)
		require.NoError(t, s.checkDraining(), "a reply request every 2s is a normal walsender")
	}
	now = now.Add(100 * time.Millisecond)
	require.NoError(t, s.checkDraining())
	now = now.Add(100 * time.Millisecond)
	require.ErrorIs(t, s.checkDraining(), errServerDraining)
}
