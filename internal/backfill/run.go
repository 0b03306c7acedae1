package backfill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/stream"
)

// saveTimeout bounds saving progress after an interruption.
const saveTimeout = 10 * time.Second

// Run backfills one table: it reads the rows after the saved progress in
// key order, evaluates the rules on each as an OpSnapshot change, delivers
// the events through a bento.Sender of its own and saves progress after each
// fully acknowledged chunk (see doc.go). It blocks until the table is done
// or ctx ends; then in-flight requests are abandoned and the error wraps
// ctx's error. A later Run resumes after the last saved chunk.
func Run(ctx context.Context, opts Options) (Result, error) {
	o := opts.withDefaults()
	if err := o.validate(true); err != nil {
		return Result{}, fmt.Errorf("backfill: %w", err)
	}
	start := o.Now()
	t, err := describeTable(ctx, o.Pool, o.Table)
	if err != nil {
		return Result{}, err
	}
	store := newProgressStore(o.Pool, o.Schema)
	st, err := store.resume(ctx, t.name, o.Snapshot, o.Restart)
	if err != nil {
		return Result{}, err
	}
	res := Result{Table: t.name, Rows: st.RowsDone, Resumed: st.LastKey != nil, AlreadyDone: st.Done}
	if st.Done {
		o.Logger.Info("backfill already done; use restart to run it again", "table", t.name, "rows", st.RowsDone)
		return res, nil
	}
	// Origin: the chunk positions below order acknowledgements only; a dead
	// letter must not show one as if it were a WAL position.
	sender, err := bento.NewSender(o.Bento, bento.SenderOptions{DeadLetters: bento.NewDeadLetterStore(o.Pool, o.Schema),
		Origin: "backfill", Limiter: o.Limiter, HTTPClient: o.HTTPClient, Logger: o.baseLogger, Registry: o.Registry, Version: o.Version})
	if err != nil {
		return res, fmt.Errorf("backfill %s: %w", t.name, err)
	}
	sendCtx, stopSending := context.WithCancel(ctx)
	if o.Ledger != nil {
		sender.OnDelivered(o.Ledger.Func(sendCtx))
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = sender.Run(sendCtx) })
	r := &runner{o: o, t: t, store: store, sender: sender, res: &res}
	err = r.run(ctx, st)
	stopSending()
	wg.Wait()
	res.Elapsed = o.Now().Sub(start)
	return res, err
}

// runner is the state of one Run.
type runner struct {
	o      Options
	t      *table
	store  *progressStore
	sender *bento.Sender
	res    *Result
}

// run is the chunk loop: read and evaluate chunk k+1 while chunk k is in
// delivery, then wait for k's acknowledgement, save it and enqueue k+1.
func (r *runner) run(ctx context.Context, st state) error {
	src, err := openSource(ctx, r.o.Pool, r.t, r.o.Snapshot, r.o.Where, r.o.ChunkSize)
	if err != nil {
		return err
	}
	defer src.close(ctx)
	eval := newEvaluator(r.o.Rules, r.o.Pool, r.t, r.o.Logger)
	r.o.Progress.Start(r.t.name, estimateRows(ctx, r.o.Pool, r.t, r.o.Where), st.RowsDone)
	defer r.o.Progress.Finish()
	r.o.Logger.Info("backfill starting", "table", r.t.name, "resumed", st.LastKey != nil, "rows_done", st.RowsDone,
		"snapshot", r.o.Snapshot != "", "filtered", r.o.Where != "")
	// A key may be an email: debug level only.
	r.o.Logger.Debug("backfill resumes after key", "table", r.t.name, "key", st.LastKey)
	var inFlight *chunk // enqueued, not yet known to be acknowledged
	for seq := int64(1); ; seq++ {
		c, err := src.next(ctx, st.LastKey)
		if err != nil {
			return r.failed(ctx, err, inFlight, &st)
		}
		if len(c.rows) == 0 {
			break
		}
		items, err := eval.items(ctx, seq, c, r.o.Now())
		if err != nil {
			return r.failed(ctx, err, inFlight, &st)
		}
		if err := r.settle(ctx, inFlight, &st); err != nil {
			return r.stopped(ctx, err)
		}
		if err := r.enqueue(ctx, items); err != nil {
			return r.stopped(ctx, err)
		}
		inFlight, st.LastKey = &c, c.last
	}
	if err := r.settle(ctx, inFlight, &st); err != nil {
		return r.stopped(ctx, err)
	}
	return r.finish(ctx, st)
}

// settle waits until everything enqueued is acknowledged, then saves c as
// delivered. Only then may the next chunk go out: that keeps at most one
// chunk to re-send after an interruption.
func (r *runner) settle(ctx context.Context, c *chunk, st *state) error {
	if c == nil {
		return nil
	}
	if err := r.sender.Drain(ctx); err != nil {
		return err
	}
	st.RowsDone += int64(len(c.rows))
	// Delivered is delivered: record it even if ctx ended just now, or the
	// next run would re-send this chunk too.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := r.store.save(saveCtx, r.t.name, c.last, st.RowsDone); err != nil {
		return err
	}
	r.res.Rows = st.RowsDone
	r.o.Progress.Advance(st.RowsDone)
	return nil
}

func (r *runner) enqueue(ctx context.Context, items []stream.Item) error {
	for _, it := range items {
		if err := r.sender.Enqueue(ctx, it); err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		switch it.Kind {
		case stream.ItemEvent:
			r.res.Events++
		case stream.ItemFailure:
			r.res.Failures++
		}
	}
	return nil
}

func (r *runner) finish(ctx context.Context, st state) error {
	if err := r.store.finish(ctx, r.t.name); err != nil {
		return err
	}
	r.o.Logger.Info("backfill done", "table", r.t.name, "rows", st.RowsDone,
		"events", r.res.Events, "failures", r.res.Failures)
	return nil
}

// failed ends the loop on an error while preparing the next chunk: the one
// in delivery is still waited for and saved, so a rerun after the fix starts
// exactly at the row that failed.
func (r *runner) failed(ctx context.Context, err error, inFlight *chunk, st *state) error {
	if ctx.Err() == nil {
		if serr := r.settle(ctx, inFlight, st); serr != nil {
			return r.stopped(ctx, errors.Join(err, serr))
		}
	}
	return r.stopped(ctx, err)
}

// stopped reports why the loop ended early; an interruption says where a
// later run resumes.
func (r *runner) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		r.o.Logger.Info("backfill interrupted; run it again to resume", "table", r.t.name, "rows_done", r.res.Rows)
		return fmt.Errorf("backfill %s: interrupted after %d rows: %w", r.t.name, r.res.Rows, ctx.Err())
	}
	return fmt.Errorf("backfill %s: %w", r.t.name, err)
}
