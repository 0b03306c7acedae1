package replication

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
