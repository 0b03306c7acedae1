package bento

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// defaultInitialBackoff is the first retry interval (then 2x, 4x ...).
const defaultInitialBackoff = time.Second

// Sender delivers enqueued items to Bento in order and acknowledges their
// positions in order (see the package doc for the invariants).
type Sender struct {
	cfg     Config
	ack     stream.AckFunc
	dlq     *DeadLetterStore
	log     *slog.Logger
	metrics *metrics
	poster  *poster
	health  *health

	enqMu    sync.Mutex // makes sequence order and partition order agree
	track    *tracker
	slots    chan struct{}  // one per outstanding event or failure (not commit marks): the bounded queue
	bytes    *stream.Budget // estimated bytes of outstanding events and failures (cfg.QueueBytes)
	parts    []*queue       // events, by hash(email) % Concurrency
	failures *queue         // rule failures and unencodable events
	running  atomic.Bool
	replays  *ReplayOptions // nil: no replay hand-off served
	origin   string         // SenderOptions.Origin
	poll     time.Duration  // how often marked dead letters are looked for

	onDelivered DeliveredFunc // nil: plain ack
}

// SenderOptions are a sender's collaborators. The zero value is usable.
type SenderOptions struct {
	// Ack receives acknowledged positions, in order (nil: dropped).
	Ack stream.AckFunc
	// DeadLetters stores events Bento rejects and rule failures. Nil means
	// dead letters cannot be written, so a bad event holds the stream (with
	// an error logged) instead of being lost.
	DeadLetters *DeadLetterStore
	// Limiter paces requests; share one to share the budget (a backfill
	// beside the syncer). Nil: a limiter of its own from cfg.
	Limiter *rate.Limiter
	// HTTPClient sends the requests (nil: a dedicated keep-alive client).
	// Redirects are never followed, whatever the client says.
	HTTPClient *http.Client
	// Replays, when set, makes Run serve `cdc dlq replay` while it runs: it
	// replays the dead letters marked for it (HandOff) through Limiter,
	// so a replay never adds requests beyond the syncer's budget. Set it on
	// the syncer's sender only.
	Replays *ReplayOptions
	// Origin, when set, says the items carry no stream position (their
	// positions only order the acknowledgements, as for reconcile repairs):
	// their dead letters are stored without a position and their reason
	// starts with "<Origin>: ", so `cdc dlq list` names where they came from.
	Origin   string
	Logger   *slog.Logger          // nil: discard
	Registry prometheus.Registerer // nil: unregistered
	Version  string                // for the User-Agent
}

// NewSender builds a sender for cfg. No I/O.
func NewSender(cfg Config, o SenderOptions) (*Sender, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("new bento sender: %w", errors.Join(errs...))
	}
	c, err := NewClient(cfg, o.HTTPClient, o.Version)
	if err != nil {
		return nil, fmt.Errorf("new bento sender: %w", err)
	}
	m := newMetrics(o.Registry)
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.String("component", "bento"))
	limiter := o.Limiter
	if limiter == nil {
		limiter = NewLimiter(cfg)
	}
	ack := o.Ack
	if ack == nil {
		ack = func(stream.Position) {}
	}
	h := &health{log: logger, now: time.Now}
	s := &Sender{
		cfg: cfg, ack: ack, dlq: o.DeadLetters, log: logger, metrics: m, health: h,
		poster: &poster{client: c, limiter: limiter, initial: defaultInitialBackoff,
			maxBackoff: cfg.MaxBackoff, log: logger, metrics: m, health: h, sleep: retry.Sleep},
		track:    newTracker(),
		slots:    make(chan struct{}, cfg.QueueSize),
		bytes:    stream.NewBudget(cfg.QueueBytes),
		failures: newQueue(),
		replays:  o.Replays,
		origin:   o.Origin,
		poll:     replayPollInterval,
	}
	for range cfg.Concurrency {
		s.parts = append(s.parts, newQueue())
	}
	return s, nil
}

// NewLimiter is the request pacer for cfg: RequestsPerMinute spread evenly,
// no burst beyond one request; unlimited when RequestsPerMinute is 0.
func NewLimiter(cfg Config) *rate.Limiter {
	if cfg.RequestsPerMinute <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(cfg.RequestsPerMinute/60), 1)
}

// Enqueue hands an item to the sender. It blocks while QueueSize events and
// failures or QueueBytes bytes are outstanding (back-pressure; an item
// larger than QueueBytes waits until it is alone; a commit mark takes no
// slot and no bytes) and returns ctx's error if ctx ends first.
func (s *Sender) Enqueue(ctx context.Context, it stream.Item) error {
	if it.Kind == stream.ItemMark {
		// A commit mark takes no slot: a single-change transaction costs
		// one slot, not two, so the queue holds the next batch while the
		// previous one is in flight (issue 14).
		s.enqMu.Lock()
		s.track.addMark(it.Pos)
		s.enqMu.Unlock()
		return nil
	}
	e, err := s.prepare(it)
	if err != nil {
		return err
	}
	size := it.Size() + int64(len(e.body))
	if err := s.bytes.Acquire(ctx, size); err != nil {
		return err
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.bytes.Release(size)
		return ctx.Err()
	}
	s.metrics.queueBytes.Add(float64(size))
	s.enqMu.Lock()
	defer s.enqMu.Unlock()
	var committed time.Time
	if it.Event != nil {
		committed = it.Event.Committed
	}
	e.seq = s.track.add(it.Pos, committed, size)
	s.metrics.queueDepth.Inc()
	switch {
	case it.Kind == stream.ItemFailure || e.bad != nil:
		s.failures.push(e)
	default:
		s.push(e)
	}
	return nil
}

// push queues an event in its email's partition. A change_email whose new
// address maps to another partition also leaves a gate there (see barrier).
func (s *Sender) push(e *entry) {
	ev := e.item.Event
	home := partition(ev.Email, len(s.parts))
	if ev.Type == stream.TypeChangeEmail {
		if other := partition(ev.NewEmail, len(s.parts)); other != home {
			e.barrier = newBarrier()
			s.parts[other].push(&entry{gate: e.barrier})
		}
	}
	s.parts[home].push(e)
}

// prepare checks an item and encodes its event outside the enqueue lock.
func (s *Sender) prepare(it stream.Item) (*entry, error) {
	e := &entry{item: it}
	switch it.Kind {
	case stream.ItemMark:
	case stream.ItemFailure:
		if it.Failure == nil {
			return nil, errors.New("enqueue item: failure item without Failure")
		}
	case stream.ItemEvent:
		if it.Event == nil {
			return nil, errors.New("enqueue item: event item without Event")
		}
		e.body, e.bad = encodeEvent(it.Event, s.cfg.SendNulls)
		switch {
		case it.Event.Type == stream.TypeChangeEmail:
			e.source = commandsSource
			if s.cfg.Transport != TransportEventsAPI {
				e.bad = errors.New("the webhook transport cannot send change_email: set bento.transport to events_api")
			}
		case s.cfg.Transport == TransportWebhook:
			e.source = sourceOf(it.Event)
		}
		e.value = s.ledgerValue(it.Event)
		if e.bad == nil {
			// The wire form is all delivery needs from here on: holding the
			// event's maps for every queued item would dominate memory.
			slim := *it.Event
			slim.Fields, slim.Details = nil, nil
			if e.merge = s.cfg.CoalesceFields && mergeable(it.Event); e.merge {
				// A merge needs them, nulls included (coalesce.go). A copy:
				// the producer may reuse its maps once Enqueue returns; fields
				// are flat, so one level is the whole map.
				slim.Fields = maps.Clone(it.Event.Fields)
			}
			e.item.Event = &slim
		}
	default:
		return nil, fmt.Errorf("enqueue item: unknown kind %d", it.Kind)
	}
	return e, nil
}

// partition maps an email to a partition; Bento treats emails
// case-insensitively, so must the ordering.
func partition(email string, n int) int {
	if n == 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(emailKey(email)))
	return int(h.Sum32() % uint32(n))
}

// OnDelivered makes the sender report accepted events with each
// acknowledgement (issue 13: the delivery ledger). Call it before Run.
func (s *Sender) OnDelivered(f DeliveredFunc) { s.onDelivered = f }

// ledgerValue keeps what the ledger needs of an event before prepare
// drops its maps.
func (s *Sender) ledgerValue(ev *stream.Event) stream.Value {
	if s.onDelivered == nil {
		return stream.Value{}
	}
	return stream.ValueOf(ev.Details)
}

// Healthy is false while Bento refuses the credentials or site.
func (s *Sender) Healthy() (ok bool, reason string) { return s.health.get() }

// Pending is the number of items enqueued and not yet acknowledged.
func (s *Sender) Pending() int { return s.track.len() }

// Drain waits until everything enqueued so far is acknowledged, or ctx ends.
// Run must be running for progress to happen.
func (s *Sender) Drain(ctx context.Context) error {
	select {
	case <-s.track.emptied():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain bento sender: %w", ctx.Err())
	}
}
