package replication

import (
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// unacked tracks the transactions handed to the delivery side and not yet
// fully acknowledged, oldest first, for the age metric
// (cdc_replication_oldest_unacked_seconds). One entry per transaction, so
// it is bounded by what the queues hold.
type unacked struct {
	mu  sync.Mutex
	txs []unackedTx
}

type unackedTx struct {
	commit stream.LSN
	at     time.Time // the source commit time
}

// emitted records the transaction of a change handed to the delivery side.
func (u *unacked) emitted(pos stream.Position, commitTime time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if n := len(u.txs); n > 0 && u.txs[n-1].commit >= pos.CommitLSN {
		return
	}
	u.txs = append(u.txs, unackedTx{commit: pos.CommitLSN, at: commitTime})
}

// acked drops the transactions pos completes: every earlier one, and its
// own when pos is its commit marker.
func (u *unacked) acked(pos stream.Position) {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := 0
	for i < len(u.txs) && (u.txs[i].commit < pos.CommitLSN || (u.txs[i].commit == pos.CommitLSN && pos.EndLSN != 0)) {
		i++
	}
	u.txs = u.txs[i:]
}

// OldestUnacked is how long ago the oldest transaction handed to the
// delivery side and not yet acknowledged committed (0: none waits), the
// value of cdc_replication_oldest_unacked_seconds at this moment.
func (r *Reader) OldestUnacked() time.Duration { return r.unacked.age(r.now()) }

// age is how long ago the oldest unacknowledged transaction committed, 0
// when everything handed over is acknowledged.
func (u *unacked) age(now time.Time) time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.txs) == 0 {
		return 0
	}
	return max(now.Sub(u.txs[0].at), 0)
}
