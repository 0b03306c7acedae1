package bento_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/logtest"
	"github.com/pgbento/cdc/internal/stream"
)

const site = "9f8b2c1e-site"

// noLeaks checks, after every other cleanup, that the test left no
// goroutines behind. Call it first; tests using it do not run in parallel.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// harness runs a Sender against a fake Bento and checks every ack.
type harness struct {
	t      *testing.T
	bento  *bentotest.Server
	sender *bento.Sender
	reg    *prometheus.Registry
	logs   *logtest.Buffer

	mu       sync.Mutex
	acks     []stream.Position
	enqueued []stream.Item
	dead     map[stream.Position]bool // positions a test expects not to find at the fake (dead letters, commands, scripted answers)
}

type options struct {
	cfg     func(*bento.Config)
	dlq     *bento.DeadLetterStore
	fake    func(*bentotest.Server)
	noRun   bool // the test calls h.run itself (e.g. to enqueue a batch first)
	replays *bento.ReplayOptions
	limiter *rate.Limiter
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	h := &harness{t: t, bento: bentotest.NewServer(t), reg: prometheus.NewRegistry(), logs: &logtest.Buffer{},
		dead: map[stream.Position]bool{}}
	if o.fake != nil {
		o.fake(h.bento)
	}
	cfg := bento.Config{SiteUUID: site}
	cfg.SetDefaults()
	cfg.BaseURL, cfg.RequestsPerMinute = h.bento.URL, 0
	cfg.MaxBackoff, cfg.Timeout = 200*time.Millisecond, 2*time.Second
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	t.Cleanup(tr.CloseIdleConnections)
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := bento.NewSender(cfg, bento.SenderOptions{Ack: h.ack, DeadLetters: o.dlq, Replays: o.replays, Limiter: o.limiter,
		HTTPClient: &http.Client{Transport: tr}, Logger: logger, Registry: h.reg, Version: "1.2.3"})
	require.NoError(t, err)
	bento.SetInitialBackoff(s, 10*time.Millisecond)
	bento.SetReplayPoll(s, 10*time.Millisecond)
	h.sender = s
	if !o.noRun {
		h.run()
	}
	return h
}

// run starts Sender.Run until the test ends.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.sender.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		require.NoError(h.t, <-done)
	})
}

// ack checks order and that everything up to pos reached Bento (or was
// expected to be dead-lettered) before it is acknowledged.
func (h *harness) ack(pos stream.Position) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.acks); n > 0 && !h.acks[n-1].Less(pos) {
		h.t.Errorf("ack %s does not follow %s", pos, h.acks[n-1])
	}
	h.acks = append(h.acks, pos)
	got := map[string]bool{}
	for _, ev := range h.bento.Received() {
		got[string(ev.Raw)] = true
	}
	for _, it := range h.enqueued {
		if pos.Less(it.Pos) || it.Kind != stream.ItemEvent || h.dead[it.Pos] {
			continue
		}
		raw, err := bento.EncodeEvent(it.Event)
		if err == nil && !got[string(raw)] {
			h.t.Errorf("ack %s before Bento accepted the event at %s", pos, it.Pos)
		}
	}
}

func (h *harness) enqueue(items ...stream.Item) {
	h.t.Helper()
	for _, it := range items {
		h.mu.Lock()
		h.enqueued = append(h.enqueued, it)
		h.mu.Unlock()
		require.NoError(h.t, h.sender.Enqueue(context.Background(), it))
	}
}

func (h *harness) expectDead(pos stream.Position) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dead[pos] = true
}

func (h *harness) drain() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(h.t, h.sender.Drain(ctx))
}

func (h *harness) lastAck() stream.Position {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.acks) == 0 {
		return stream.Position{}
	}
	return h.acks[len(h.acks)-1]
}

// counter reads a counter from the sender's registry; label "" reads an
// unlabelled one.
func (h *harness) counter(name, label, value string) float64 {
	mfs, err := h.reg.Gather()
	require.NoError(h.t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// pos is the position of test event i: one event per transaction.
func pos(i int) stream.Position {
	return stream.Position{CommitLSN: stream.LSN(0x1000 + i*0x10), EndLSN: stream.LSN(0x1008 + i*0x10), Index: 0, Sub: 1}
}

// event is test event i for email; details.seq identifies it at Bento.
func event(i int, email string) stream.Item {
	return stream.Item{Kind: stream.ItemEvent, Pos: pos(i), Event: &stream.Event{
		Pos: pos(i), Rule: "orders", Table: "public.orders", Key: fmt.Sprintf("id=%d", i), Source: "pos",
		Type: "order.placed", Email: email, Details: map[string]any{"seq": i},
		Committed: time.Now(),
	}}
}

func events(from, to int, email func(i int) string) []stream.Item {
	var out []stream.Item
	for i := from; i < to; i++ {
		out = append(out, event(i, email(i)))
	}
	return out
}

func ann(int) string { return "ann@example.com" }

// seqs lists details.seq of what Bento received, in order.
func seqs(t *testing.T, evs []bentotest.ReceivedEvent) []int {
	var out []int
	for _, ev := range evs {
		n, err := ev.Details["seq"].(json.Number).Int64()
		require.NoError(t, err)
		out = append(out, int(n))
	}
	return out
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
