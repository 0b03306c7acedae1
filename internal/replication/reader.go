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

	"github.com/pgbento/cdc/internal/stream"
)

// persistEvery bounds how long an acknowledged position waits before it is
// saved (and so before the server may be told about it).
const persistEvery = 200 * time.Millisecond

// Reader streams changes from the slot and owns the checkpoint. See doc.go
// for the position and acknowledgement invariants.
type Reader struct {
	cfg     Config
	store   *CheckpointStore
	log     *slog.Logger
	metrics *metrics
	acks    ackState

	// Only the replication goroutine touches these.
	emitted     bool            // something was handed to out in this process
	lastEmitted stream.Position // the last thing handed to out

	healthy atomic.Bool
	reason  atomic.Value // string: why not healthy

	saveFailing bool // only the persister touches it: log a failing save once
}

// NewReader does no I/O. cfg should have had SetDefaults applied.
func NewReader(cfg Config, store *CheckpointStore, logger *slog.Logger, reg prometheus.Registerer) *Reader {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Reader{cfg: cfg, store: store, log: logger.With("component", "replication"), metrics: newMetrics(reg)}
	r.reason.Store("not started")
	return r
}

// Ack records that the delivery side finished everything up to pos. It is
// the stream.AckFunc: called in order, from another goroutine; it never
// blocks on I/O (the persister saves it shortly after).
func (r *Reader) Ack(pos stream.Position) { r.acks.ack(pos) }

// AckDurably is Ack that also saves the checkpoint before it returns. The
// delivery side does not send its next request until its ack returned, so
// a crash re-sends at most the requests in flight. If the save fails (the
// database is briefly unreachable) the error is returned and the periodic
// persister saves the position later; nothing is reported to the server
// before it is saved either way.
func (r *Reader) AckDurably(ctx context.Context, pos stream.Position) error {
	r.acks.ack(pos)
	p, end, changed := r.acks.pending()
	if !changed {
		return nil
	}
	if err := r.store.Save(ctx, p); err != nil {
		return err
	}
	r.acks.saved(p, end)
	return nil
}

// AckDurablyWith is AckDurably that also runs also in the transaction
// that saves pos. The position is recorded as acknowledged only after that
// transaction committed, so the persister can never save it (or a later
// one) without also's rows; a failed save leaves nothing behind and the
// caller retries it whole.
func (r *Reader) AckDurablyWith(ctx context.Context, pos stream.Position, also AlsoFunc) error {
	if also == nil {
		return r.AckDurably(ctx, pos)
	}
	if err := r.store.SaveWith(ctx, pos, also); err != nil {
		return err
	}
	r.acks.ack(pos)
	p, end, _ := r.acks.pending()
	r.acks.saved(p, end)
	return nil
}

// Healthy reports whether the reader is connected and streaming.
func (r *Reader) Healthy() (ok bool, reason string) {
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
// forever. On return the latest acknowledged position has been saved.
func (r *Reader) Run(ctx context.Context, out chan<- stream.Change) error {
	if err := r.cfg.Validate(); err != nil {
		return fmt.Errorf("run replication: %w", err)
	}
	start, err := r.loadCheckpoint(ctx)
	if err != nil {
		return nil // ctx ended while waiting for the database
	}
	r.acks.start(start)
	r.log.Info("starting replication", "target", r.cfg.Target(), "slot", r.cfg.Slot, "checkpoint", start.String())

	bgCtx, stopBg := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.persistLoop(bgCtx) }()
	go func() { defer wg.Done(); r.heartbeatLoop(bgCtx) }()
	err = r.replicate(ctx, out, start)
	stopBg()
	wg.Wait()
	r.persist(context.WithoutCancel(ctx)) // the last acks before exit
	r.setHealthy(false, "stopped")
	return err
}

// loadCheckpoint retries until the checkpoint table answers or ctx ends.
func (r *Reader) loadCheckpoint(ctx context.Context) (stream.Position, error) {
	var pos stream.Position
	err := backoff.Retry(func() error {
		var err error
		if pos, err = r.store.Load(ctx); err != nil {
			r.setHealthy(false, err.Error())
			r.log.Warn("load checkpoint failed; retrying", "err", err)
		}
		return err
	}, backoff.WithContext(newBackoff(), ctx))
	return pos, err
}

func newBackoff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = 30 * time.Second
	b.MaxElapsedTime = 0 // never give up; only ctx ends the wait
	return b
}

// replicate runs sessions until ctx ends or one fails permanently.
func (r *Reader) replicate(ctx context.Context, out chan<- stream.Change, start stream.Position) error {
	bo := newBackoff()
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
			return fmt.Errorf("replicate slot %s: %w%s", r.cfg.Slot, err, hint(err))
		}
		if streamed {
			bo.Reset()
		}
		wait := bo.NextBackOff()
		r.log.Warn("replication connection lost; reconnecting", "err", err, "in", wait)
		r.metrics.reconnects.Inc()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
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
func hint(err error) string {
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

// persistLoop saves acknowledged positions every persistEvery.
func (r *Reader) persistLoop(ctx context.Context) {
	t := time.NewTicker(persistEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.persist(ctx)
		}
	}
}

// persist saves the latest ack, if new. A failed save is retried on the
// next tick; until then the server is simply not told about it.
func (r *Reader) persist(ctx context.Context) {
	pos, end, changed := r.acks.pending()
	if !changed {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.store.Save(ctx, pos); err != nil {
		if !r.saveFailing {
			r.log.Warn("save checkpoint failed; retrying", "err", err)
		}
		r.saveFailing = true
		return
	}
	if r.saveFailing {
		r.log.Info("save checkpoint recovered", "checkpoint", pos.String())
	}
	r.saveFailing = false
	r.acks.saved(pos, end)
}
