package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// The schedule for reconnecting and for loading the checkpoint; it never
// gives up, only ctx ends the wait.
const (
	reconnectInitial = 500 * time.Millisecond
	reconnectMax     = 30 * time.Second
)

// Reader streams changes from the slot and owns the checkpoint. See doc.go
// for the position and acknowledgement invariants.
type Reader struct {
	cfg     Config
	store   *CheckpointStore
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	acks    ackState
	queue   *stream.Budget // bytes of changes handed to out and not yet released
	unacked unacked

	// Only the replication goroutine touches these.
	emitted       bool            // something was handed to out in this process
	lastEmitted   stream.Position // the last thing handed to out
	identity      *tableIdentity  // the watched tables' OIDs, from the first session
	maxFlush      stream.LSN      // the highest flush recorded as reported (slotidentity.go)
	recordFailing bool            // recording a flush fails: logged once per outage
	unruledWarned map[string]bool // tables no rule reads, warned about (unruled.go)

	// parked is the replication connection a clean stop left streaming;
	// set by the replication goroutine as Run ends, taken by Close.
	parked *parkedConn

	fenced     chan struct{} // closed when a save found another leader's epoch
	fencedOnce sync.Once

	healthy atomic.Bool
	reason  atomic.Value // string: why not healthy

	saveFailingAfter time.Duration // how long saves may fail before the reader is unhealthy
	saveProblem      atomic.Value  // string: why saves fail for too long ("" none; savehealth.go)
	pubProblem       atomic.Value  // string: the rules' tables the publication lacks ("" none; pubwatch.go)
}

// Options are the reader's collaborators; zero values take the defaults.
type Options struct {
	Logger   *slog.Logger          // nil: discard
	Registry prometheus.Registerer // nil: metrics are kept but not served
	Now      func() time.Time      // nil: time.Now; when status updates and keepalives are due
	// SaveFailingAfter is how long checkpoint saves may keep failing before
	// the reader reports unhealthy (0: DefaultSaveFailingAfter).
	SaveFailingAfter time.Duration
}

// NewReader does no I/O. cfg should have had SetDefaults applied.
func NewReader(cfg Config, store *CheckpointStore, opts Options) *Reader {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reader{cfg: cfg, store: store, log: opts.Logger.With("component", "replication"), now: opts.Now,
		fenced: make(chan struct{}), queue: stream.NewBudget(cfg.QueueBytes), saveFailingAfter: opts.SaveFailingAfter}
	if r.saveFailingAfter <= 0 {
		r.saveFailingAfter = DefaultSaveFailingAfter
	}
	r.saveProblem.Store("")
	r.pubProblem.Store("")
	r.metrics = newMetrics(opts.Registry, func() float64 { return float64(r.queue.Used()) })
	r.reason.Store("not started")
	return r
}

// Release returns a consumed change's bytes to the change queue's budget
// (cfg.QueueBytes). The consumer of out calls it once per change when it is
// done with it.
func (r *Reader) Release(ch *stream.Change) { r.queue.Release(ch.QueuedBytes) }

// Healthy reports whether the reader is connected and streaming, its
// checkpoint saves work (savehealth.go) and the publication carries the
// rules' tables (pubwatch.go).
func (r *Reader) Healthy() (ok bool, reason string) {
	if p := r.saveProblem.Load().(string); p != "" {
		return false, p
	}
	if p := r.pubProblem.Load().(string); p != "" {
		return false, p
	}
	if r.healthy.Load() {
		return true, ""
	}
	return false, r.reason.Load().(string)
}

func (r *Reader) setHealthy(ok bool, reason string) {
	r.reason.Store(reason)
	r.healthy.Store(ok)
}

// Run streams changes into out until ctx ends (it then returns nil) or a
// permanent error occurs (slot or publication dropped, no privilege, a
// message it cannot decode). Lost connections are retried with backoff
// forever. The acknowledged positions are saved by the ack function
// (AckFunc) and, once delivery stopped, by Close.
func (r *Reader) Run(ctx context.Context, out chan<- stream.Change) error {
	if errs := r.cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("run replication: %w", errors.Join(errs...))
	}
	start, err := r.loadCheckpoint(ctx)
	if err != nil {
		return nil // ctx ended while waiting for the database
	}
	r.acks.start(start)
	r.maxFlush = r.loadMaxFlush(ctx)
	if err := r.checkSlotLost(ctx); err != nil {
		return fmt.Errorf("run replication: %w", err)
	}
	r.log.Info("starting replication", "target", r.cfg.Target(), "slot", r.cfg.Slot, "checkpoint", start.String())

	bgCtx, stopBg := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.heartbeatLoop(bgCtx) }()
	go func() { defer wg.Done(); r.slotWatchLoop(bgCtx) }()
	err = r.replicate(ctx, out, start)
	stopBg()
	wg.Wait()
	r.setHealthy(false, "stopped")
	return err
}

// loadCheckpoint claims the checkpoint (a new epoch: doc.go, "Fencing")
// and loads it, retrying until the checkpoint table answers or ctx ends.
func (r *Reader) loadCheckpoint(ctx context.Context) (stream.Position, error) {
	var pos stream.Position
	err := backoff.Retry(func() error {
		var err error
		if _, err = r.store.Claim(ctx); err == nil {
			pos, err = r.store.Load(ctx)
		}
		if err != nil {
			r.setHealthy(false, err.Error())
			r.log.Warn("load checkpoint failed; retrying", "error", err)
		}
		return err
	}, backoff.WithContext(retry.Backoff(reconnectInitial, reconnectMax), ctx))
	return pos, err
}

// replicate runs sessions until ctx ends or one fails permanently.
func (r *Reader) replicate(ctx context.Context, out chan<- stream.Change, start stream.Position) error {
	bo := retry.Backoff(reconnectInitial, reconnectMax)
	for {
		resume := resumeAfterAck(start)
		if r.emitted {
			resume = resumeAfterEmit(r.lastEmitted)
		}
		streamed, err := r.session(ctx, out, resume)
		r.setHealthy(false, fmt.Sprint("replication connection lost: ", err))
		if ctx.Err() != nil {
			return nil
		}
		if permanent(err) {
			if objectNotInPrerequisiteState(err) {
				if lost := r.checkSlotLost(ctx); lost != nil {
					return fmt.Errorf("replicate slot %s: %w (%v)", r.cfg.Slot, lost, err)
				}
			}
			return fmt.Errorf("replicate slot %s: %w%s", r.cfg.Slot, err, r.hint(ctx, err))
		}
		if streamed {
			bo.Reset()
		}
		wait := bo.NextBackOff()
		r.log.Warn("replication connection lost; reconnecting", "error", err, "in", wait)
		r.metrics.reconnects.Inc()
		if retry.Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// permanent decides which errors end Run instead of reconnecting: ones that
// another attempt would meet again until an operator acts.
func permanent(err error) bool {
	var de *decodeError
	if errors.As(err, &de) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "42704", // undefined_object: slot or publication missing
		"42501",          // insufficient_privilege
		"28000", "28P01", // invalid authorization / password
		"3D000", // database does not exist
		"55000": // object_not_in_prerequisite_state: wal_level, invalidated slot
		return true
	}
	return false
}

// hint tells the operator what to do about a permanent error, if we know.
func (r *Reader) hint(ctx context.Context, err error) string {
	if missingPublication(err) {
		return r.publicationHint(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return ""
	}
	switch pgErr.Code {
	case "42501":
		return " (the role needs the REPLICATION privilege: ALTER ROLE <role> WITH REPLICATION)"
	case "42704":
		return " (the slot or publication is missing: run setup to create them)"
	}
	return ""
}
