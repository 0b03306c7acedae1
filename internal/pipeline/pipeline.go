// Package pipeline runs the syncer: it wires replication -> rules -> bento,
// applies the syncer's migrations, takes the leader lock, checks the
// database, ensures publication and slot (with a first-time backfill from
// the slot's snapshot), runs the three stages, serves /readyz, and shuts
// them down in order. It owns the wiring and the shutdown sequence. It does
// not own the stages' semantics (each package's doc), the checkpoint (the
// replication reader: pipeline hands the reader's ack function to the
// sender, with the ledger's rows when the ledger is on, and does nothing
// else with it) or the operator commands (package ops).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/reconcile"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/migrations"
)

// Options are the syncer's collaborators, passed in so tests and the demo
// can supply their own.
type Options struct {
	Logger     *slog.Logger
	Registry   prometheus.Registerer
	HTTPClient *http.Client
	Version    string
	// Ready, when set, is called once, when the syncer first streams.
	Ready func()
	// BackfillPoll is how often the syncer looks for requested backfills
	// (0: 2s); BackfillHooks let tests act between a chunk's watermarks.
	BackfillPoll  time.Duration
	BackfillHooks backfill.Hooks
}

// Syncer is one running instance of the pipeline.
type Syncer struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger
	m    *metrics
	// lookups holds the stream while a lookup fails, for /readyz.
	lookups *rules.LookupRetries

	readyOnce sync.Once

	mu      sync.Mutex
	reader  *replication.Reader
	sender  *bento.Sender
	leader  bool
	waiting bool   // a standby waiting for the lock
	phase   string // while not streaming yet: what the syncer is doing

	reconcile *reconcile.Loop  // nil unless reconcile.every is set; made once, kept across leaderships
	repairs   reconcile.Health // the running reconcile repairs' senders, for Ready
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
	s := &Syncer{cfg: cfg, opts: opts, log: opts.Logger.With("component", "pipeline"), m: newMetrics(opts.Registry)}
	s.lookups = rules.NewLookupRetries(s.log, s.m.lookupTimeouts.Inc)
	return s
}

// Run runs the syncer until ctx ends, then shuts down gracefully: it stops
// reading, gives in-flight deliveries up to cfg.ShutdownTimeout to finish,
// saves the checkpoint and returns nil. Any error before that is returned.
// With standby, a leader that lost its lock stops delivering and waits to
// lead again, like a standby, for as long as it lives.
func (s *Syncer) Run(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, s.cfg.Source.DSN)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	defer s.opts.HTTPClient.CloseIdleConnections()
	b := retry.Backoff(lockRetryInitial, lockRetryMax)
	prepared := false
	for {
		var err error
		if !prepared {
			err = s.prepare(ctx, pool)
			prepared = err == nil
		}
		if prepared {
			err = s.lead(ctx, pool)
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil // stopped while waiting or starting: a clean stop
		}
		if ctx.Err() != nil || !s.cfg.Standby || !(errors.Is(err, errLostLeadership) || unreachable(err)) {
			return err
		}
		s.log.Warn("standby: not leading; waiting to lead again", "reason", err)
		if errors.Is(err, errLostLeadership) {
			b.Reset()
		}
		if retry.Sleep(ctx, b.NextBackOff()) != nil {
			return nil
		}
	}
}

// lead takes the leader lock (or waits for it), then ensures the slot and
// streams until ctx ends or the lock is lost.
func (s *Syncer) lead(ctx context.Context, pool *pgxpool.Pool) error {
	lead, err := acquireLeader(ctx, s.cfg, s.log, s.setWaiting)
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
	if ctx.Err() == nil && errors.Is(lost, errLostLeadership) {
		return lost // whatever the stage that noticed it returned (often context.Canceled)
	}
	return err
}

// prepare applies migrations and checks the database and the rules against
// its live schema.
func (s *Syncer) prepare(ctx context.Context, pool *pgxpool.Pool) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pc.Release()
	conn := pc.Conn()
	if err := migrations.Apply(ctx, conn, s.cfg.Source.Schema); err != nil {
		return err
	}
	if problems := replication.Preflight(ctx, conn, s.cfg.Source.Config); len(problems) > 0 {
		return ProblemsError(problems)
	}
	cols, err := replication.LiveColumns(ctx, conn, s.cfg.Compiled.Tables())
	if err != nil {
		return err
	}
	if err := s.cfg.Compiled.CheckSchema(cols); err != nil {
		return err
	}
	return s.cfg.Compiled.CheckLookups(ctx, conn)
}

// stream runs the three stages until ctx ends, then shuts them down: in
// order (stop reading, drain deliveries within shutdown_timeout, save the
// checkpoint) on a normal stop, at once when another instance took over
// (the lock watch saw it, or a checkpoint save was fenced).
func (s *Syncer) stream(ctx context.Context, pool *pgxpool.Pool) error {
	st, err := s.newStages(ctx, pool)
	if err != nil {
		return err
	}
	st.start()
	if s.opts.Ready != nil {
		s.readyOnce.Do(s.opts.Ready) // once, also when a standby leads again
	}
	select {
	case <-ctx.Done():
		if cause := context.Cause(ctx); errors.Is(cause, errLostLeadership) {
			s.log.Error("another instance took over: stopping without delivering more", "error", cause)
			st.abort()
			st.fail(cause)
			break
		}
		s.log.Info("shutting down: stop reading, drain deliveries", "timeout", s.cfg.ShutdownTimeout)
		st.drain(ctx, s.cfg.ShutdownTimeout)
	case <-st.sendCtx.Done(): // a stage failed
		st.abort()
	case <-st.reader.Fenced(): // a save found a newer leader's epoch
		st.abort()
		st.fail(fmt.Errorf("%w: %w", errLostLeadership, replication.ErrFenced))
	}
	err = st.err
	// Also after a takeover: the checkpoint's epoch fences the final save
	// (it is stored only if no newer leader claimed the checkpoint yet).
	if saveErr := st.reader.Close(); saveErr != nil && err == nil {
		err = saveErr
	}
	return err
}

func (s *Syncer) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

func (s *Syncer) setLeader(v bool) {
	s.mu.Lock()
	s.leader, s.waiting = v, false
	s.mu.Unlock()
}

func (s *Syncer) setWaiting() {
	s.mu.Lock()
	s.waiting = true
	s.mu.Unlock()
}

// OldestUnacked is the reader's age of the oldest change waiting for its
// acknowledgement: 0 before it streams, and while this instance does not
// lead (a former leader's reader keeps what it never had acknowledged).
func (s *Syncer) OldestUnacked() time.Duration {
	s.mu.Lock()
	reader, leader := s.reader, s.leader
	s.mu.Unlock()
	if reader == nil || !leader {
		return 0
	}
	return reader.OldestUnacked()
}

// leading reports whether this instance holds the leader lock.
func (s *Syncer) leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader
}

// Ready reports whether the syncer is replicating, Bento is reachable and
// no halting error is in force; reason says why not.
func (s *Syncer) Ready() (bool, string) {
	s.mu.Lock()
	leader, waiting, reader, sender, phase := s.leader, s.waiting, s.reader, s.sender, s.phase
	s.mu.Unlock()
	switch {
	case !leader && waiting:
		return false, "standby: another instance holds the lock"
	case !leader:
		return false, "starting: not leading yet"
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
	if ok, why := s.repairs.Healthy(); !ok {
		return false, "reconcile: " + why
	}
	if stalled, why := s.lookups.Stalled(); stalled {
		return false, "lookup: " + why
	}
	return true, "ok"
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
