// Package pipeline wires replication -> rules -> bento into the running
// syncer: it applies the syncer's migrations, takes the leader lock, checks
// the database, ensures publication and slot, runs the three stages, and
// shuts them down in order. It owns the wiring and the shutdown sequence, not
// the stages' semantics (see each package's doc).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
	"github.com/pgbento/cdc/migrations"
)

// Options are the syncer's collaborators, passed in so tests and the demo
// can supply their own.
type Options struct {
	Logger     *slog.Logger
	Registry   prometheus.Registerer
	HTTPClient *http.Client
	Version    string
	// Ready, when set, is called once the syncer is streaming.
	Ready func()
}

// Syncer is one running instance of the pipeline.
type Syncer struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger
	m    *metrics

	mu     sync.Mutex
	reader *replication.Reader
	sender *bento.Sender
	leader bool
	phase  string // while not streaming yet: what the syncer is doing
	acked  stream.Position
}

// New returns a Syncer. It does no I/O.
func New(cfg *config.Config, opts Options) *Syncer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = newHTTPClient()
	}
	return &Syncer{cfg: cfg, opts: opts, log: opts.Logger.With("component", "pipeline"), m: newMetrics(opts.Registry)}
}

// Run runs the syncer until ctx ends, then shuts down gracefully: it stops
// reading, gives in-flight deliveries up to cfg.ShutdownTimeout to finish,
// saves the checkpoint and returns nil. Any error before that is returned.
func (s *Syncer) Run(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, s.cfg.Source.DSN)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	defer s.opts.HTTPClient.CloseIdleConnections()
	if err := s.prepare(ctx, pool); err != nil {
		return err
	}
	lead, err := acquireLeader(ctx, s.cfg, s.log)
	if err != nil {
		return err
	}
	defer lead.release()
	s.setLeader(true)
	defer s.setLeader(false)
	leadCtx, cancel := context.WithCancelCause(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		if err := lead.watch(leadCtx); err != nil {
			cancel(err)
		}
	}()
	err = s.ensure(leadCtx, pool)
	if err == nil {
		err = s.stream(leadCtx, pool)
	}
	lost := context.Cause(leadCtx)
	cancel(nil)
	<-watchDone
	if err == nil && ctx.Err() == nil && lost != nil {
		err = lost
	}
	return err
}

// prepare applies migrations and checks the database and the rules against
// its live schema.
func (s *Syncer) prepare(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pgx.Connect(ctx, s.cfg.Source.DSN)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := migrations.Apply(ctx, conn, s.cfg.Source.Schema); err != nil {
		return err
	}
	if problems := replication.Preflight(ctx, conn, s.cfg.Source.Config); len(problems) > 0 {
		return ProblemsError(problems)
	}
	cols, err := LiveColumns(ctx, conn, s.cfg.Compiled.Tables())
	if err != nil {
		return err
	}
	if err := s.cfg.Compiled.CheckSchema(cols); err != nil {
		return err
	}
	return s.cfg.Compiled.CheckLookups(ctx, conn)
}

// stream runs the three stages and the shutdown sequence.
func (s *Syncer) stream(ctx context.Context, pool *pgxpool.Pool) error {
	store := replication.NewCheckpointStore(pool, s.cfg.Source.Schema, s.cfg.Source.Slot)
	reader := replication.NewReader(s.cfg.Source.Config, store, s.opts.Logger, s.opts.Registry)
	dlq := bento.NewDeadLetterStore(pool, s.cfg.Source.Schema)
	var saveFailing bool // only the sender's acker calls ack
	ack := func(p stream.Position) {
		s.mu.Lock()
		s.acked = p
		s.mu.Unlock()
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := reader.AckDurably(saveCtx, p)
		if err != nil && !saveFailing {
			s.log.Warn("saving the checkpoint failed; it is retried in the background", "error", err)
		}
		saveFailing = err != nil
	}
	sender, err := bento.NewSender(s.cfg.Bento, ack, dlq, nil, s.opts.HTTPClient, s.opts.Logger, s.opts.Registry, s.opts.Version)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.reader, s.sender = reader, sender
	s.mu.Unlock()
	eval := rules.NewEvaluator(s.cfg.Compiled, pool)

	readCtx, stopReading := context.WithCancel(context.WithoutCancel(ctx))
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReading()
	defer stopSending()
	changes := make(chan stream.Change, s.cfg.Source.QueueSize)

	g := new(errgroup.Group)
	var stageErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { stageErr = err })
		stopReading()
		stopSending()
	}
	g.Go(func() error {
		if err := reader.Run(readCtx, changes); err != nil && readCtx.Err() == nil {
			fail(fmt.Errorf("replication: %w", err))
		}
		close(changes)
		return nil
	})
	g.Go(func() error {
		if err := sender.Run(sendCtx); err != nil && sendCtx.Err() == nil {
			fail(fmt.Errorf("delivery: %w", err))
		}
		return nil
	})
	evalDone := make(chan struct{})
	g.Go(func() error {
		defer close(evalDone)
		if err := s.evaluate(sendCtx, eval, sender, changes); err != nil && sendCtx.Err() == nil {
			fail(err)
		}
		return nil
	})
	if s.opts.Ready != nil {
		s.opts.Ready()
	}
	select {
	case <-ctx.Done():
		if cause := context.Cause(ctx); errors.Is(cause, errLostLeadership) {
			s.log.Error("another instance took over: stopping without delivering more", "error", cause)
			stopReading()
			stopSending()
			_ = g.Wait()
			return cause
		}
		s.log.Info("shutting down: stop reading, drain deliveries", "timeout", s.cfg.ShutdownTimeout)
		stopReading()
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		// The evaluator may be blocked handing items to a full queue while
		// Bento is down: the drain deadline bounds that wait too.
		select {
		case <-evalDone:
		case <-drainCtx.Done():
		}
		if err := sender.Drain(drainCtx); err != nil {
			s.log.Warn("shutdown: in-flight events handed back; they are re-read on restart", "pending", sender.Pending())
		}
		cancel()
		stopSending()
	case <-sendCtx.Done():
	}
	_ = g.Wait()
	if err := s.saveCheckpoint(store); err != nil && stageErr == nil {
		stageErr = err
	}
	return stageErr
}

// saveCheckpoint persists the last acknowledged position on the way out, so
// a restart never re-sends what Bento already has.
func (s *Syncer) saveCheckpoint(store *replication.CheckpointStore) error {
	s.mu.Lock()
	p := s.acked
	s.mu.Unlock()
	if p.IsZero() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.Save(ctx, p); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	s.log.Info("checkpoint saved", "position", p.String())
	return nil
}

func (s *Syncer) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

func (s *Syncer) setLeader(v bool) {
	s.mu.Lock()
	s.leader = v
	s.mu.Unlock()
}

// Ready reports whether the syncer is replicating, Bento is reachable and
// no halting error is in force; reason says why not.
func (s *Syncer) Ready() (bool, string) {
	s.mu.Lock()
	leader, reader, sender, phase := s.leader, s.reader, s.sender, s.phase
	s.mu.Unlock()
	switch {
	case !leader:
		return false, "standby: another instance holds the lock"
	case reader == nil || sender == nil:
		if phase != "" {
			return false, phase
		}
		return false, "starting"
	}
	if ok, why := reader.Healthy(); !ok {
		return false, "replication: " + why
	}
	if ok, why := sender.Healthy(); !ok {
		return false, "bento: " + why
	}
	return true, "ok"
}

// Acked returns the last position Bento acknowledged in this process.
func (s *Syncer) Acked() stream.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// ProblemsError is the list of problems preflight found.
type ProblemsError []replication.Problem

func (p ProblemsError) Error() string {
	msg := "the database is not ready for replication:"
	for _, pr := range p {
		msg += "\n  - " + pr.What + "\n    fix: " + pr.Fix
	}
	return msg
}

// newHTTPClient is the client Bento requests use: keep-alive connections
// reused across requests; per-request timeouts come from the bento config.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t}
}
