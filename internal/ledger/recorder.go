package ledger

import (
	"context"
	"log/slog"
	"time"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// Recorder writes what a sender outside the stream (a backfill, a reconcile
// repair) got accepted, right after each acknowledgement: such senders have
// no checkpoint to share a transaction with.
type Recorder struct {
	db     Execer
	w      *Writer
	mode   Mode
	origin string
	log    *slog.Logger
}

// NewRecorder does no I/O; a nil Recorder records nothing.
func NewRecorder(db Execer, schema string, mode Mode, origin string, log *slog.Logger) *Recorder {
	if mode == ModeOff {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{db: db, w: NewWriter(schema), mode: mode, origin: origin, log: log.With("component", "ledger")}
}

// Func is the acknowledgement for bento.Sender.OnDelivered: it writes the
// accepted events, retrying (and so holding the sender's next request)
// until the write works or ctx ends.
func (r *Recorder) Func(ctx context.Context) func(stream.Position, []stream.Delivered) {
	return func(_ stream.Position, ds []stream.Delivered) {
		ds = r.mode.Filter(ds)
		if len(ds) == 0 {
			return
		}
		recs := make([]Record, len(ds))
		for i, d := range ds {
			recs[i] = Record{Delivered: d, Origin: r.origin}
		}
		r.Write(ctx, recs)
	}
}

// Write records recs (with their own origin and adjusts), retrying like
// Func, until it works or ctx ends.
func (r *Recorder) Write(ctx context.Context, recs []Record) {
	bo := retry.Backoff(200*time.Millisecond, 10*time.Second)
	for logged := false; ; {
		err := r.w.Write(ctx, r.db, recs)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !logged {
			r.log.Warn("writing the ledger failed; delivery waits and retries", "error", err)
			logged = true
		}
		if retry.Sleep(ctx, bo.NextBackOff()) != nil {
			return
		}
	}
}

// Accepted records ds (as the mode filters them) with the recorder's
// origin, retrying like Func; it is bento.ReplayOptions.Accepted for a
// replay. A nil Recorder (ledger off) records nothing.
func (r *Recorder) Accepted(ctx context.Context, ds []stream.Delivered) {
	if r == nil {
		return
	}
	r.Func(ctx)(stream.Position{}, ds)
}
