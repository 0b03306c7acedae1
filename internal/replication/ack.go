package replication

import (
	"sync"

	"github.com/pgbento/cdc/internal/stream"
)

// ackState is the hand-off between the delivery side (Ack), the persister
// (which saves acknowledged positions) and the replication goroutine (which
// reports only persisted positions to the server). See doc.go.
type ackState struct {
	mu           sync.Mutex
	acked        stream.Position // latest Ack
	ackedEnd     stream.LSN      // EndLSN of the latest acked commit marker
	persisted    stream.Position // latest position saved to the store
	persistedEnd stream.LSN      // ackedEnd as of that save: the flush LSN we may report
}

// ack records pos; positions arrive in order, so the latest is the highest.
// Only commit markers carry an EndLSN, so a non-zero one means the whole
// transaction is acknowledged.
func (a *ackState) ack(pos stream.Position) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if pos.Less(a.acked) {
		return
	}
	a.acked = pos
	if pos.EndLSN > a.ackedEnd {
		a.ackedEnd = pos.EndLSN
	}
}

// pending returns what to save next, if anything changed since the last save.
func (a *ackState) pending() (stream.Position, stream.LSN, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acked, a.ackedEnd, a.acked != a.persisted
}

// saved records that pos (with end, as returned by pending) is durable.
func (a *ackState) saved(pos stream.Position, end stream.LSN) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.persisted.Less(pos) {
		a.persisted, a.persistedEnd = pos, end
	}
}

// durable returns the persisted position and the flush LSN it allows.
func (a *ackState) durable() (stream.Position, stream.LSN) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.persisted, a.persistedEnd
}

// start seeds the state with the stored checkpoint.
func (a *ackState) start(pos stream.Position) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acked, a.persisted = pos, pos
	a.ackedEnd, a.persistedEnd = 0, 0
	if pos.EndLSN != 0 {
		a.ackedEnd, a.persistedEnd = pos.EndLSN, pos.EndLSN
	}
}
