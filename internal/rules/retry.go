package rules

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// LookupRetries holds the stream while a lookup cannot run (the database is
// unreachable, a lookup timed out behind a lock) and makes that visible: one
// log line when an episode starts and one when it ends (not one per retry),
// a callback per timed-out attempt (a metric), and Stalled for /readyz while
// it lasts. An episode is one change retried until it evaluates. Evaluation
// writes it; any goroutine may read Stalled.
type LookupRetries struct {
	log       *slog.Logger
	onTimeout func()
	now       func() time.Time

	mu     sync.Mutex
	since  time.Time // zero while no lookup is failing
	reason string
	hold   context.Context // a held change is given up when it ends (HoldWhile)
}

// ErrStopped is EvaluateRetrying giving up a held change because the
// syncer stops (HoldWhile): the change is not acknowledged, so it is read
// again after a restart.
var ErrStopped = errors.New("stopped while a lookup was failing; the change is read again after a restart")

// NewLookupRetries returns a LookupRetries logging to log (nil: discard).
// onTimeout, when set, is called once per lookup attempt that timed out.
func NewLookupRetries(log *slog.Logger, onTimeout func()) *LookupRetries {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if onTimeout == nil {
		onTimeout = func() {}
	}
	return &LookupRetries{log: log, onTimeout: onTimeout, now: time.Now, hold: context.Background()}
}

// HoldWhile makes EvaluateRetrying give up a change it holds once ctx ends
// (the syncer stops reading: retrying until the delivery deadline would
// only delay the stop) with ErrStopped. Later calls replace ctx.
func (r *LookupRetries) HoldWhile(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = ctx
}

// Stalled reports whether a change is being retried because its lookup
// fails, and why: the last error and for how long.
func (r *LookupRetries) Stalled() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		return false, ""
	}
	return true, r.reason + " (retrying for " + r.now().Sub(r.since).Round(time.Second).String() + ")"
}

// EvaluateRetrying is Evaluate for the stream and the backfill: a lookup
// that fails because of the database, not the row (ErrLookup: unreachable,
// timed out, missing table), is retried with backoff until it works or ctx
// ends, since the row is fine and the world is not; dead-lettering every row
// until someone noticed would be worse. The syncer stopping (HoldWhile's
// context) gives the change up with ErrStopped. Any other error is
// returned at once.
func (e *Evaluator) EvaluateRetrying(ctx context.Context, c *stream.Change, dst []stream.Item, r *LookupRetries) ([]stream.Item, error) {
	out, err := e.Evaluate(ctx, c, dst)
	if !errors.Is(err, ErrLookup) {
		return out, err // the common case: no retry machinery per change
	}
	if r == nil {
		r = NewLookupRetries(nil, nil)
	}
	r.begin(c, err)
	wait, cancel := context.WithCancel(ctx) // the waits between attempts end with ctx or the hold
	defer cancel()
	stopHold := context.AfterFunc(r.holding(), cancel)
	defer stopHold()
	b := retry.Backoff(500*time.Millisecond, 30*time.Second)
	for {
		if err := retry.Sleep(wait, b.NextBackOff()); err != nil {
			r.end(c, false)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.log.Warn("stopping while a lookup fails; the held change is read again after a restart", "table", c.Table)
			return nil, ErrStopped
		}
		out, err = e.Evaluate(ctx, c, dst)
		if !errors.Is(err, ErrLookup) {
			r.end(c, true)
			return out, err
		}
		r.failed(err)
	}
}

func (r *LookupRetries) holding() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hold
}

// begin starts an episode with its first failure: the one log line.
func (r *LookupRetries) begin(c *stream.Change, err error) {
	r.failed(err)
	r.log.Warn("lookup failed; holding the stream and retrying the row until it works",
		"table", c.Table, "error", err)
}

// failed records one failed attempt.
func (r *LookupRetries) failed(err error) {
	if errors.Is(err, ErrLookupTimeout) {
		r.onTimeout()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		r.since = r.now()
	}
	r.reason = err.Error()
}

// end closes the episode: the lookup worked again (one log line), or ctx
// ended (shutdown; the change is read again after a restart).
func (r *LookupRetries) end(c *stream.Change, worked bool) {
	r.mu.Lock()
	took := r.now().Sub(r.since)
	r.since, r.reason = time.Time{}, ""
	r.mu.Unlock()
	if worked {
		r.log.Info("lookup works again; the stream goes on", "table", c.Table, "after", took.Round(time.Millisecond).String())
	}
}
