package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

// stages are the reader, the evaluator and the sender of one streaming run,
// with the contexts that stop them: reading stops first on shutdown, sending
// last, so what was read can still be delivered.
type stages struct {
	s      *Syncer
	reader *replication.Reader
	sender *bento.Sender
	eval   *rules.Evaluator
	pool   *pgxpool.Pool
	pruner *ledger.Pruner // nil: ledger off
	// windows and backfills run requested backfills inside the stream
	// (issue 12, internal/backfill doc "Inside the stream").
	windows   *backfill.Windows
	backfills *backfill.Driver

	readCtx, sendCtx         context.Context
	stopReading, stopSending context.CancelFunc
	g                        errgroup.Group
	evalDone                 chan struct{}
	once                     sync.Once
	err                      error // the first stage failure
}

func (s *Syncer) newStages(ctx context.Context, pool *pgxpool.Pool) (*stages, error) {
	st := &stages{s: s, pool: pool, evalDone: make(chan struct{}), windows: backfill.NewWindows()}
	st.readCtx, st.stopReading = context.WithCancel(context.WithoutCancel(ctx))
	st.sendCtx, st.stopSending = context.WithCancel(context.WithoutCancel(ctx))
	s.lookups.HoldWhile(st.readCtx) // a change a failing lookup holds is given up when reading stops
	store := replication.NewCheckpointStore(pool, s.cfg.Source.Schema, s.cfg.Source.Slot)
	st.reader = replication.NewReader(s.cfg.Source.Config, store, replication.Options{Logger: s.opts.Logger, Registry: s.opts.Registry})
	dlq := bento.NewDeadLetterStore(pool, s.cfg.Source.Schema)
	limiter := bento.NewLimiter(s.cfg.Bento)               // shared with reconcile, backfill requests and the replay hand-off
	replayEval := rules.NewEvaluator(s.cfg.Compiled, pool) // the replay hand-off's own, off the stream's goroutine
	replays := &bento.ReplayOptions{Rebuild: func(ctx context.Context, d bento.DeadLetter) ([]*stream.Event, error) {
		return replayEval.Rebuild(ctx, d.Change, d.Rule)
	}, Accepted: ledger.NewRecorder(pool, s.cfg.Source.Schema, s.cfg.Ledger, ledger.OriginReplay, s.opts.Logger).Accepted}
	sender, err := bento.NewSender(s.cfg.Bento, bento.SenderOptions{Ack: st.ackFunc(), DeadLetters: dlq,
		Limiter: limiter, Replays: replays, HTTPClient: s.opts.HTTPClient, Logger: s.opts.Logger, Registry: s.opts.Registry,
		Version: s.opts.Version})
	if err != nil {
		st.stopReading()
		st.stopSending()
		return nil, err
	}
	st.sender = sender
	st.useLedger()
	st.useReconcile(limiter)
	st.useBackfills(limiter)
	st.eval = rules.NewEvaluator(s.cfg.Compiled, pool)
	s.mu.Lock()
	s.reader, s.sender = st.reader, st.sender
	s.mu.Unlock()
	return st, nil
}

// fail records the first stage failure and stops everything.
func (st *stages) fail(err error) {
	st.once.Do(func() { st.err = err })
	st.stopReading()
	st.stopSending()
}

func (st *stages) start() {
	if st.pruner != nil {
		st.g.Go(func() error { st.pruner.Run(st.sendCtx); return nil })
	}
	changes := make(chan stream.Change, st.s.cfg.Source.QueueSize)
	st.g.Go(func() error { return st.backfills.Run(st.readCtx) })
	st.g.Go(func() error {
		if err := st.reader.Run(st.readCtx, changes); err != nil && st.readCtx.Err() == nil {
			st.fail(fmt.Errorf("replication: %w", err))
		}
		close(changes)
		return nil
	})
	st.g.Go(func() error {
		if err := st.sender.Run(st.sendCtx); err != nil && st.sendCtx.Err() == nil {
			st.fail(fmt.Errorf("delivery: %w", err))
		}
		return nil
	})
	st.g.Go(func() error {
		defer close(st.evalDone)
		err := st.s.evaluate(st.sendCtx, st.eval, st.windows, st.sender, changes, st.reader.Release)
		if err != nil && st.sendCtx.Err() == nil && !errors.Is(err, rules.ErrStopped) {
			st.fail(err)
		}
		return nil
	})
}

// drain stops reading, lets the sender deliver what it holds for at most
// timeout, then stops it; undelivered items are not acknowledged and are
// read again after a restart.
func (st *stages) drain(ctx context.Context, timeout time.Duration) {
	st.stopReading()
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	// The evaluator may be blocked handing items to a full queue while
	// Bento is down: the drain deadline bounds that wait too.
	select {
	case <-st.evalDone:
	case <-drainCtx.Done():
	}
	// The drain deadline may pass with nothing left (the evaluator's wait
	// used it up): then nothing is handed back and nothing is worth a WARN.
	if err := st.sender.Drain(drainCtx); err != nil {
		if pending := st.sender.Pending(); pending > 0 {
			st.s.log.Warn("shutdown: in-flight events handed back; they are re-read on restart", "pending", pending)
		}
	}
	st.abort()
}

// abort stops every stage at once and waits for them.
func (st *stages) abort() {
	st.stopReading()
	st.stopSending()
	_ = st.g.Wait()
}
