package bento_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/stream"
)

var (
	t1 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t2 = t1.Add(time.Hour)
)

// upd is test item i: an $update_fields for email.
func upd(i int, email string, fields map[string]any, date time.Time) stream.Item {
	return stream.Item{Kind: stream.ItemEvent, Pos: pos(i), Event: &stream.Event{
		Pos: pos(i), Rule: "profile", Table: "public.customers", Key: "id=1", Source: "pos",
		Type: stream.TypeUpdateFields, Email: email, Fields: fields, Date: date, Committed: time.Now(),
	}}
}

// typed is test item i: another event type for email.
func typed(i int, typ, email string, details map[string]any) stream.Item {
	it := upd(i, email, nil, time.Time{})
	it.Event.Type, it.Event.Details = typ, details
	return it
}

// coalesceHarness runs a sender with bento.coalesce_fields set as on
// (events_api) over items enqueued before it starts, so they wait in the
// same batch, and drains it.
func coalesceHarness(t *testing.T, on, sendNulls bool, batchSize int, items []stream.Item) *harness {
	t.Helper()
	h := newHarness(t, options{noRun: true, fake: eventsAPIFake, cfg: func(c *bento.Config) {
		eventsAPI(c)
		c.CoalesceFields, c.SendNulls = on, sendNulls
		if batchSize > 0 {
			c.BatchSize = batchSize
		}
	}})
	for _, it := range items {
		h.expectDead(it.Pos) // a merged event matches none of its parts: the test compares what Bento got
	}
	h.enqueue(items...)
	h.run()
	h.drain()
	require.Equal(t, items[len(items)-1].Pos, h.lastAck(), "everything acknowledged")
	return h
}

// received renders what Bento received, one wire event a line, in order.
func received(h *harness) []string {
	var out []string
	for _, ev := range h.bento.Received() {
		out = append(out, string(ev.Raw))
	}
	return out
}

func requireEvents(t *testing.T, want, got []string) {
	t.Helper()
	require.Len(t, got, len(want), "got %s", strings.Join(got, "\n"))
	for i := range want {
		require.JSONEq(t, want[i], got[i], "event %d", i)
	}
}

// Issue 14, item 6: which $update_fields merge, into what.
func TestCoalesceFields(t *testing.T) {
	const ann, bob = "ann@example.com", "bob@example.com"
	f := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tt := range []struct {
		name      string
		sendNulls bool
		items     []stream.Item
		want      []string
		coalesced float64
	}{{
		name: "later values win key by key, earlier-only fields stay, the latest date",
		items: []stream.Item{
			upd(0, ann, f("a", 1, "b", 1), t1), upd(1, ann, f("b", 2, "c", 2), t2), upd(2, ann, f("c", 3), t1),
		},
		want:      []string{`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1,"b":2,"c":3},"date":"2026-01-02T04:04:05.000Z"}`},
		coalesced: 2,
	}, {
		name:  "events for other subscribers in between do not break a run",
		items: []stream.Item{upd(0, ann, f("a", 1), t1), upd(1, bob, f("a", 9), t1), upd(2, ann, f("a", 2), t2)},
		want: []string{
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2},"date":"2026-01-02T04:04:05.000Z"}`,
			`{"type":"$update_fields","email":"bob@example.com","fields":{"a":9},"date":"2026-01-02T03:04:05.000Z"}`,
		},
		coalesced: 1,
	}, {
		name: "another event for the subscriber in between breaks the run",
		items: []stream.Item{
			upd(0, ann, f("a", 1), time.Time{}), typed(1, "$tag", ann, f("tag", "vip")), upd(2, ann, f("a", 2), time.Time{}),
			typed(3, "$purchase", ann, f("unique", f("key", "o1"))), upd(4, ann, f("a", 3), time.Time{}),
		},
		want: []string{
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
			`{"type":"$tag","email":"ann@example.com","details":{"tag":"vip"}}`,
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2}}`,
			`{"type":"$purchase","email":"ann@example.com","details":{"unique":{"key":"o1"}}}`,
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":3}}`,
		},
	}, {
		name: "an $update_fields with details is neither merged nor mergeable into",
		items: []stream.Item{
			upd(0, ann, f("a", 1), time.Time{}), typed(1, stream.TypeUpdateFields, ann, f("note", "x")), upd(2, ann, f("a", 2), time.Time{}),
		},
		want: []string{
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
			`{"type":"$update_fields","email":"ann@example.com","details":{"note":"x"}}`,
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2}}`,
		},
	}, {
		name:  "only an address exactly as written merges: Bento may tell Ann@ from ann@",
		items: []stream.Item{upd(0, "Ann@Example.COM ", f("a", 1), time.Time{}), upd(1, ann, f("b", 2), time.Time{})},
		want: []string{
			`{"type":"$update_fields","email":"Ann@Example.COM ","fields":{"a":1}}`,
			`{"type":"$update_fields","email":"ann@example.com","fields":{"b":2}}`,
		},
	}, {
		name: "another spelling of the address breaks the run (it may be the same subscriber)",
		items: []stream.Item{
			upd(0, ann, f("a", 1), time.Time{}), upd(1, "ANN@example.com", f("a", 2), time.Time{}), upd(2, ann, f("a", 3), time.Time{}),
			upd(3, ann, f("b", 4), time.Time{}),
		},
		want: []string{
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
			`{"type":"$update_fields","email":"ANN@example.com","fields":{"a":2}}`,
			`{"type":"$update_fields","email":"ann@example.com","fields":{"a":3,"b":4}}`,
		},
		coalesced: 1,
	}, {
		name:      "a later null hides the earlier value and is left out by default",
		items:     []stream.Item{upd(0, ann, f("a", 1, "b", 1), time.Time{}), upd(1, ann, f("a", nil), time.Time{})},
		want:      []string{`{"type":"$update_fields","email":"ann@example.com","fields":{"b":1}}`},
		coalesced: 1,
	}, {
		name:      "a later null is sent as null with send_nulls",
		sendNulls: true,
		items:     []stream.Item{upd(0, ann, f("a", 1, "b", 1), time.Time{}), upd(1, ann, f("a", nil), time.Time{})},
		want:      []string{`{"type":"$update_fields","email":"ann@example.com","fields":{"a":null,"b":1}}`},
		coalesced: 1,
	}, {
		name:      "a later value replaces an earlier null",
		items:     []stream.Item{upd(0, ann, f("a", nil), t2), upd(1, ann, f("a", 2), time.Time{})},
		want:      []string{`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2},"date":"2026-01-02T04:04:05.000Z"}`},
		coalesced: 1,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			h := coalesceHarness(t, true, tt.sendNulls, 0, tt.items)
			requireEvents(t, tt.want, received(h))
			require.Len(t, h.bento.Requests(), 1)
			require.Equal(t, tt.coalesced, h.counter("cdc_bento_events_coalesced_total", "", ""))
		})
	}
}

// Off by default: the same run of updates reaches Bento event by event.
func TestCoalesceFieldsOffByDefault(t *testing.T) {
	noLeaks(t)
	require.False(t, defaultConfig().CoalesceFields)
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}),
		upd(1, "ann@example.com", map[string]any{"a": 2}, time.Time{}),
	}
	h := coalesceHarness(t, false, false, 0, items)
	requireEvents(t, []string{
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2}}`,
	}, received(h))
	require.Zero(t, h.counter("cdc_bento_events_coalesced_total", "", ""))
}

func defaultConfig() bento.Config {
	var c bento.Config
	c.SetDefaults()
	return c
}

// A merged event counts once toward batch_size, so a request stays full
// while a backlog waits: with batch_size 2, three updates for Ann and one
// for Bob go in one request, where they would take two without merging.
func TestCoalescedRequestsStayFull(t *testing.T) {
	noLeaks(t)
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}),
		upd(1, "ann@example.com", map[string]any{"a": 2}, time.Time{}),
		upd(2, "ann@example.com", map[string]any{"a": 3}, time.Time{}),
		upd(3, "bob@example.com", map[string]any{"a": 4}, time.Time{}),
		upd(4, "cy@example.com", map[string]any{"a": 5}, time.Time{}),
	}
	h := coalesceHarness(t, true, false, 2, items)
	reqs := h.bento.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, []int{0, 0, 1}, requestOf(h.bento.Received()), "Ann's merged event and Bob's fill the first request")
	require.EqualValues(t, 2, h.counter("cdc_bento_events_coalesced_total", "", ""))
}

func requestOf(evs []bentotest.ReceivedEvent) []int {
	var out []int
	for _, ev := range evs {
		out = append(out, ev.Request)
	}
	return out
}

// The ledger records the one event Bento received: at the last part's
// position (so the acknowledgement covering it covers every part), with
// the latest date, in the acknowledgement that covers the batch.
func TestCoalescedLedgerRecord(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true, fake: eventsAPIFake, cfg: func(c *bento.Config) { eventsAPI(c); c.CoalesceFields = true }})
	var mu sync.Mutex
	var last stream.Position
	var got []stream.Delivered
	h.sender.OnDelivered(func(p stream.Position, ds []stream.Delivered) {
		mu.Lock()
		defer mu.Unlock()
		last, got = p, append(got, ds...)
	})
	h.enqueue(upd(0, "ann@example.com", map[string]any{"a": 1}, t2),
		upd(1, "bob@example.com", map[string]any{"a": 1}, t1),
		upd(2, "ann@example.com", map[string]any{"a": 2}, t1))
	h.run()
	h.drain()
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, pos(2), last)
	require.Len(t, got, 2, "one record per event Bento received")
	require.Equal(t, []stream.Position{pos(1), pos(2)}, []stream.Position{got[0].Pos, got[1].Pos},
		"the merged event is recorded at its last part's position")
	require.Equal(t, "ann@example.com", got[1].Email)
	require.Equal(t, t2, got[1].Date, "the merged event's date is the latest")
	require.Equal(t, got[0].Request, got[1].Request)
}

// A merged event Bento rejects is un-merged: its parts go again, alone, so
// only the bad one is dead-lettered (its own position and wire form,
// Bento's reason) and the valid one is delivered, with its own ledger
// record; the others in the request are delivered and the batch is
// acknowledged. Both ways of learning it: the Events API names the index
// (the parts then follow the request's accepted events), the webhook's 400
// is bisected down to the merged event alone (the parts go at its place).
func TestCoalescedEventRejected(t *testing.T) {
	for name, tt := range map[string]struct {
		cfg  func(*bento.Config)
		want []string // emails in the order Bento accepted them
	}{
		"named by errors[].index": {eventsAPI, []string{"bob@example.com", "cy@example.com", "ann@example.com"}},
		"isolated by bisection":   {func(*bento.Config) {}, []string{"ann@example.com", "bob@example.com", "cy@example.com"}},
	} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			h, store := rejectingHarness(t, tt.cfg, 0)
			ledger := recordLedger(h)
			items := []stream.Item{
				upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}),
				upd(1, "bob@example.com", map[string]any{"a": 1}, time.Time{}),
				upd(2, "ann@example.com", map[string]any{"bad": true}, time.Time{}),
				upd(3, "cy@example.com", map[string]any{"a": 1}, time.Time{}),
			}
			sendBatch(h, items, 2)
			require.Equal(t, tt.want, receivedEmails(h))
			require.Contains(t, received(h), `{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
				"the valid part is delivered as it was written")
			require.ElementsMatch(t, []stream.Position{pos(0), pos(1), pos(3)}, ledger.positions(),
				"one ledger record per event Bento accepted, at its own position")
			requireOneDeadPart(t, store, items[2])
			require.Zero(t, h.counter("cdc_bento_events_coalesced_total", "", ""), "nothing merged was accepted")
			require.Zero(t, h.counter("cdc_bento_resent_events_total", "", ""), "no part was a duplicate")
			require.EqualValues(t, 1, h.counter("cdc_dead_letters_total", "kind", bento.KindRejected))
		})
	}
}

// rejectingHarness is a sender with bento.coalesce_fields on (cfg sets
// the rest) and a dead-letter store, at a fake that rejects every event
// with a "bad" field and, with maxEvents > 0, answers 413 to requests
// carrying more.
func rejectingHarness(t *testing.T, cfg func(*bento.Config), maxEvents int) (*harness, *bento.DeadLetterStore) {
	t.Helper()
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true, cfg: func(c *bento.Config) { cfg(c); c.CoalesceFields = true },
		fake: func(s *bentotest.Server) {
			eventsAPIFake(s)
			s.SetLimits(maxEvents, 0)
			s.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Fields["bad"] != nil })
		}})
	return h, store
}

// sendBatch enqueues items before Run, so they wait in one batch, expects
// dead letters for the items numbered dead, drains, and checks that
// everything was acknowledged.
func sendBatch(h *harness, items []stream.Item, dead ...int) {
	h.t.Helper()
	for _, i := range dead {
		h.expectDead(pos(i))
	}
	h.enqueue(items...)
	h.run()
	h.drain()
	require.Equal(h.t, items[len(items)-1].Pos, h.lastAck(), "everything acknowledged")
}

// requireOneDeadPart checks that the store holds one dead letter: the
// rejected part's, with its own position and wire form and Bento's reason.
func requireOneDeadPart(t *testing.T, store *bento.DeadLetterStore, part stream.Item) {
	t.Helper()
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1, "only the bad part is dead-lettered")
	p := part.Pos
	p.EndLSN = 0 // not stored
	require.Equal(t, p, dls[0].Pos, "the part's own position")
	raw, err := bento.EncodeEvent(part.Event)
	require.NoError(t, err)
	require.JSONEq(t, string(raw), string(dls[0].Event), "the part's own event, as Bento judged it")
	require.Contains(t, dls[0].Reason+dls[0].Response, "invalid event", "Bento's reason is kept")
}

// When Bento names a merged event as failed but accepted a later event for
// the same subscriber in that request, that event is sent again after the
// un-merged parts, so the subscriber's events end in commit order (it may
// arrive twice: counted as resent).
func TestCoalescedEventRejectedKeepsOrder(t *testing.T) {
	noLeaks(t)
	h, store := rejectingHarness(t, eventsAPI, 0)
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}),
		upd(1, "ann@example.com", map[string]any{"bad": true}, time.Time{}),
		typed(2, "$tag", "Ann@example.com", map[string]any{"tag": "vip"}),
		upd(3, "bob@example.com", map[string]any{"a": 1}, time.Time{}),
	}
	sendBatch(h, items, 1)
	requireEvents(t, []string{
		`{"type":"$tag","email":"Ann@example.com","details":{"tag":"vip"}}`,
		`{"type":"$update_fields","email":"bob@example.com","fields":{"a":1}}`,
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
		`{"type":"$tag","email":"Ann@example.com","details":{"tag":"vip"}}`,
	}, received(h))
	requireOneDeadPart(t, store, items[1])
	require.EqualValues(t, 1, h.counter("cdc_bento_resent_events_total", "", ""), "the tag, sent again")
	require.Zero(t, h.counter("cdc_bento_events_coalesced_total", "", ""))
}

// A merged event too large for Bento on its own (413) is un-merged, and
// its parts, each small enough, are delivered: nothing is dead-lettered.
func TestCoalescedEventTooLarge(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true, cfg: func(c *bento.Config) { c.CoalesceFields = true },
		fake: func(s *bentotest.Server) { s.SetLimits(0, 600) }})
	big := strings.Repeat("x", 300)
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": big}, time.Time{}),
		upd(1, "bob@example.com", map[string]any{"b": 1}, time.Time{}),
		upd(2, "ann@example.com", map[string]any{"c": big}, time.Time{}),
	}
	h.enqueue(items...)
	h.run()
	h.drain()
	require.Equal(t, pos(2), h.lastAck())
	requireEvents(t, []string{
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":"` + big + `"}}`,
		`{"type":"$update_fields","email":"ann@example.com","fields":{"c":"` + big + `"}}`,
		`{"type":"$update_fields","email":"bob@example.com","fields":{"b":1}}`,
	}, received(h))
	requireDeadLetters(t, store, 0, "a 413 on the merged event is no part's fault")
	require.Zero(t, h.counter("cdc_bento_events_coalesced_total", "", ""))
}

// A merged event counts as one of batch_size, so its parts, sent again
// apart, may outnumber the batch: they go at most batch_size a request.
func TestUnmergedPartsKeepBatchSize(t *testing.T) {
	noLeaks(t)
	// A request over batch_size would be answered 413.
	h, store := rejectingHarness(t, func(c *bento.Config) { eventsAPI(c); c.BatchSize = 2 }, 2)
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}),
		upd(1, "ann@example.com", map[string]any{"b": 1}, time.Time{}),
		upd(2, "ann@example.com", map[string]any{"bad": true}, time.Time{}),
		upd(3, "bob@example.com", map[string]any{"a": 1}, time.Time{}),
	}
	sendBatch(h, items, 2)
	var statuses []int
	for _, r := range h.bento.Requests() {
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []int{200, 200, 422}, statuses, "the merged event with Bob's; two parts; the bad part alone (no 413)")
	require.Equal(t, []int{0, 1, 1}, requestOf(h.bento.Received()))
	requireOneDeadPart(t, store, items[2])
}

// receivedEmails lists the emails of the events Bento accepted, in order.
func receivedEmails(h *harness) []string {
	var out []string
	for _, ev := range h.bento.Received() {
		out = append(out, ev.Email)
	}
	return out
}

// ledgerLog collects what the sender reports for the ledger, and passes
// each acknowledgement on to the harness's checks.
type ledgerLog struct {
	mu  sync.Mutex
	got []stream.Delivered
}

func recordLedger(h *harness) *ledgerLog {
	l := &ledgerLog{}
	h.sender.OnDelivered(func(p stream.Position, ds []stream.Delivered) {
		l.mu.Lock()
		l.got = append(l.got, ds...)
		l.mu.Unlock()
		h.ack(p)
	})
	return l
}

func (l *ledgerLog) positions() []stream.Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []stream.Position
	for _, d := range l.got {
		out = append(out, d.Pos)
	}
	return out
}

// A merged event whose request is abandoned (Run cancelled) acknowledges
// none of its parts; they go back to the queue and the next Run merges and
// sends them again.
func TestCoalescedBatchAbandoned(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true, fake: func(s *bentotest.Server) {
		eventsAPIFake(s)
		s.SetFault(&bentotest.Response{Hang: true})
	}, cfg: func(c *bento.Config) { eventsAPI(c); c.CoalesceFields = true }})
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}),
		upd(1, "bob@example.com", map[string]any{"a": 1}, time.Time{}),
		upd(2, "ann@example.com", map[string]any{"a": 2}, time.Time{}),
	}
	for _, it := range items {
		h.expectDead(it.Pos)
	}
	h.enqueue(items...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.sender.Run(ctx) }()
	require.Eventually(t, func() bool { return len(h.bento.Requests()) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.True(t, h.lastAck().IsZero())
	require.Equal(t, 3, h.sender.Pending())
	require.Equal(t, 3, bento.Queued(h.sender), "every part is back in the queue")

	h.bento.SetFault(nil)
	h.run()
	h.drain()
	require.Equal(t, pos(2), h.lastAck())
	requireEvents(t, []string{
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2}}`,
		`{"type":"$update_fields","email":"bob@example.com","fields":{"a":1}}`,
	}, received(h))
	require.EqualValues(t, 1, h.counter("cdc_bento_events_coalesced_total", "", ""))
}

// A $change_email between two updates for its old address breaks the run:
// the command goes alone to the commands endpoint, between them.
func TestCoalesceBrokenByChangeEmail(t *testing.T) {
	noLeaks(t)
	move := typed(1, stream.TypeChangeEmail, "ann@example.com", nil)
	move.Event.NewEmail = "ann@new.example"
	items := []stream.Item{
		upd(0, "ann@example.com", map[string]any{"a": 1}, time.Time{}), move,
		upd(2, "ann@example.com", map[string]any{"a": 2}, time.Time{}),
	}
	h := coalesceHarness(t, true, false, 0, items)
	requireEvents(t, []string{
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":1}}`,
		`{"type":"$update_fields","email":"ann@example.com","fields":{"a":2}}`,
	}, received(h))
	require.Equal(t, []int{0, 2}, requestOf(h.bento.Received()))
	require.Len(t, h.bento.Commands(), 1)
	require.Equal(t, 1, h.bento.Commands()[0].Request, "the command between the updates")
	require.Zero(t, h.counter("cdc_bento_events_coalesced_total", "", ""))
}
