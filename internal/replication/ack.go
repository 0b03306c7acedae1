package replication

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/retry"
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

// The ack function's save: each attempt gets saveTimeout; failed attempts
// are retried on this schedule until they work or delivery stops.
const (
	saveTimeout      = 5 * time.Second
	finalSaveTimeout = 10 * time.Second
	saveRetryInitial = 200 * time.Millisecond
	saveRetryMax     = 10 * time.Second
)

// AckFunc returns the delivery side's acknowledgement (doc.go, invariant 2):
// it records pos and saves it before it returns, so the delivery side's next
// request waits for the save and a crash re-sends at most the requests in
// flight. While the save fails (the database is briefly unreachable) it
// retries, holding delivery, until it works or ctx ends; nothing is reported
// to the server before it is saved. Close saves what a cut-short retry left.
func (r *Reader) AckFunc(ctx context.Context) stream.AckFunc {
	ack := r.AckWithFunc(ctx)
	return func(pos stream.Position) { ack(pos, nil) }
}

// saveUntilDone saves the latest acknowledged position, retrying until it
// is saved or ctx ends.
func (r *Reader) saveUntilDone(ctx context.Context) {
	r.retrySave(ctx, func() error { return r.saveAcked(ctx, saveTimeout) })
}

// retrySave runs save until it works or ctx ends, and says which. A failure
// is logged once per outage.
func (r *Reader) retrySave(ctx context.Context, save func() error) bool {
	b := retry.Backoff(saveRetryInitial, saveRetryMax)
	var out saveOutage
	for {
		err := save()
		if errors.Is(err, ErrFenced) {
			r.fence(err)
			<-ctx.Done() // never return: the delivery side must not send again
			return false
		}
		if err == nil || ctx.Err() != nil {
			if err == nil {
				r.saveRecovered(&out)
			}
			return err == nil
		}
		r.saveFailed(&out, err)
		if retry.Sleep(ctx, b.NextBackOff()) != nil {
			return false
		}
	}
}

// Fenced is closed when a save found that another instance claimed the
// checkpoint: this instance was replaced and must stop delivering. The ack
// function that found it never returns (until its context ends), so the
// delivery side sends no further request.
func (r *Reader) Fenced() <-chan struct{} { return r.fenced }

func (r *Reader) fence(err error) {
	r.fencedOnce.Do(func() {
		r.log.Error("another instance took over: stopping before the next request", "error", err)
		r.setHealthy(false, "replaced by another instance")
		close(r.fenced)
	})
}

// saveAcked saves the latest acknowledged position if it is not saved yet.
func (r *Reader) saveAcked(ctx context.Context, timeout time.Duration) error {
	pos, end, changed := r.acks.pending()
	if !changed {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := r.store.Save(ctx, pos); err != nil {
		return err
	}
	r.acks.saved(pos, end)
	return nil
}

// Close is the one final save: once the delivery side has stopped
// acknowledging, it saves the last acknowledged position if the ack
// function could not (delivery stopped while a save was failing), so a
// restart never re-sends what Bento already has. After a clean stop it then
// reports the saved position to the server and waits briefly for the slot
// to show it (finalstatus.go), so the slot does not pin WAL while the syncer
// is stopped. Call it after Run returned and delivery stopped; calling it
// again does nothing new.
func (r *Reader) Close() error {
	parked := r.parked
	r.parked = nil
	err := r.saveAcked(context.Background(), finalSaveTimeout)
	if parked != nil {
		if err != nil {
			parked.conn.Close(context.Background())
		} else if repErr := r.reportFinal(parked); repErr != nil {
			r.log.Warn("final position saved but not confirmed by the server; the next start reports it", "error", repErr)
		}
	}
	if err != nil {
		return err
	}
	if pos, _ := r.acks.durable(); !pos.IsZero() {
		r.log.Info("checkpoint saved", "position", pos.String())
	}
	return nil
}
