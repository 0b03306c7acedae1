package bento_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/stream"
	"github.com/pgbento/cdc/migrations"
)

// newStore is a dead-letter store on a fresh database with the syncer's
// schema applied.
func newStore(t *testing.T) *bento.DeadLetterStore {
	t.Helper()
	store, _ := newStoreDB(t)
	return store
}

// newStoreDB is newStore and its database.
func newStoreDB(t *testing.T) (*bento.DeadLetterStore, *pgtest.DB) {
	t.Helper()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, migrations.Apply(ctx, conn, "cdc"))
	return bento.NewDeadLetterStore(db.Pool, "cdc"), db
}

func isSeq(n int) func(bentotest.ReceivedEvent) bool {
	return func(ev bentotest.ReceivedEvent) bool { return ev.Details["seq"] == json.Number(strconv.Itoa(n)) }
}

func TestDeadLetterStoreRoundTrip(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	in := bento.DeadLetter{
		Kind: bento.KindRejected, Rule: "order_paid", Table: "public.orders", Key: "id=1", Reason: "bento answered HTTP 400",
		Status: 400, Response: `{"error":"bad"}`, Attempts: 3,
		Pos:   stream.Position{CommitLSN: 0x16B374D848, Index: 2, Sub: 1},
		Event: json.RawMessage(`{"type":"$purchase","email":"ann@example.com"}`), Source: "pos",
	}
	require.NoError(t, store.Put(ctx, in))
	require.NoError(t, store.Put(ctx, bento.DeadLetter{Kind: bento.KindRule, Reason: "email is NULL",
		Change: json.RawMessage(`not json`)}))

	all, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	got := all[0]
	require.NotZero(t, got.ID)
	require.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)
	in.ID, in.CreatedAt = got.ID, got.CreatedAt
	require.JSONEq(t, string(in.Event), string(got.Event))
	in.Event = got.Event
	require.Equal(t, in, got)
	require.JSONEq(t, `"not json"`, string(all[1].Change), "invalid JSON is kept as a string, never lost")

	one, err := store.Get(ctx, all[1].ID)
	require.NoError(t, err)
	require.Equal(t, bento.KindRule, one.Kind)
	rules, err := store.List(ctx, bento.ListOptions{Kind: bento.KindRule})
	require.NoError(t, err)
	require.Len(t, rules, 1)

	require.NoError(t, bento.Discard(ctx, store, got.ID))
	_, err = store.Get(ctx, got.ID)
	require.True(t, errors.Is(err, bento.ErrNotFound))
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Error(t, bento.Discard(ctx, store), "discarding needs explicit ids")
}

// One bad event in 100: bisection isolates it, it is dead-lettered with
// Bento's answer, and the other 99 arrive in order.
func TestRejectedEventIsIsolated(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true, fake: func(s *bentotest.Server) { s.RejectWhen(isSeq(37)) }})
	h.expectDead(pos(37))
	h.enqueue(events(0, 100, ann)...)
	h.run()
	h.drain()

	want := append(seqRange(0, 37), seqRange(38, 100)...)
	require.Equal(t, want, seqs(t, h.bento.Received()))
	require.Equal(t, pos(99), h.lastAck())
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	d := dls[0]
	require.Equal(t, bento.KindRejected, d.Kind)
	require.Equal(t, 400, d.Status)
	require.Contains(t, d.Response, "event 0: invalid event")
	require.Equal(t, pos(37).CommitLSN, d.Pos.CommitLSN)
	require.Equal(t, "orders", d.Rule)
	require.Equal(t, "id=37", d.Key)
	require.GreaterOrEqual(t, d.Attempts, 7, "every request of the bisection carried it")
	require.JSONEq(t, `{"type":"order.placed","email":"ann@example.com","details":{"seq":37}}`, string(d.Event))
	require.EqualValues(t, 1, h.counter("cdc_dead_letters_total", "kind", "rejected"))
}

// Rule failures, unencodable events, a lone 413 and an Events API answer
// with failed events are all dead-lettered in place, and acknowledged.
func TestDeadLetterKinds(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, cfg: func(c *bento.Config) {
		c.Transport, c.PublishableKey, c.SecretKey = bento.TransportEventsAPI, "pk", "sk"
	}, fake: func(s *bentotest.Server) { s.SetLimits(0, 4096) }})
	failure := stream.Item{Kind: stream.ItemFailure, Pos: pos(1), Failure: &stream.Failure{
		Pos: pos(1), Rule: "orders", Table: "public.orders", Key: "id=1", Reason: "email is NULL",
		Change: []byte(`{"op":"insert"}`), Event: []byte(`{"type":"order.placed"}`),
	}}
	noEmail := event(2, "")
	huge := event(3, "ann@example.com")
	huge.Event.Details["blob"] = strings.Repeat("x", 8000)
	for _, it := range []stream.Item{failure, noEmail, huge} {
		h.expectDead(it.Pos)
	}
	h.enqueue(event(0, "ann@example.com"), failure, noEmail, huge)
	h.drain()
	h.bento.Script(bentotest.Response{Status: 200, Body: `{"results":0,"failed":1}`})
	h.expectDead(pos(4))
	h.enqueue(event(4, "ann@example.com"))
	h.drain()

	require.Equal(t, pos(4), h.lastAck())
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	type row struct {
		kind   string
		status int
		reason string
	}
	var got []row
	for _, d := range dls {
		got = append(got, row{d.Kind, d.Status, d.Reason})
	}
	require.ElementsMatch(t, []row{
		{bento.KindRule, 0, "email is NULL"},
		{bento.KindRejected, 0, "encode event: email is empty"},
		{bento.KindRejected, 413, "bento answered HTTP 413"},
		{bento.KindRejected, 200, "bento reported failed events (HTTP 200)"},
	}, got)
	require.Equal(t, seqRange(0, 1), seqs(t, h.bento.Received()))
}

// Replay re-sends rejected events in order and removes those Bento now
// accepts; the others stay with one more attempt recorded.
func TestReplayAndDiscard(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, fake: func(s *bentotest.Server) {
		s.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email != "ann@example.com" })
	}})
	for i, email := range []string{"bob@example.com", "cy@example.com", "dee@example.com"} {
		h.expectDead(pos(i))
		h.enqueue(event(i, email))
	}
	h.enqueue(stream.Item{Kind: stream.ItemFailure, Pos: pos(3), Failure: &stream.Failure{Pos: pos(3), Reason: "boom"}})
	h.drain()
	ctx := context.Background()
	dls, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 4)

	h.bento.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "cy@example.com" })
	cfg := bento.Config{SiteUUID: site, BaseURL: h.bento.URL}
	cfg.SetDefaults()
	client, err := bento.NewClient(cfg, nil, "test")
	require.NoError(t, err)
	res, err := bento.Replay(ctx, store, client, bento.ReplayOptions{},
		dls[0].ID, dls[1].ID, dls[2].ID, dls[3].ID)
	require.NoError(t, err)
	require.Equal(t, []int64{dls[0].ID, dls[2].ID}, res.Replayed)
	require.Len(t, res.Failed, 2)
	require.Equal(t, dls[1].ID, res.Failed[0].ID)
	require.Equal(t, dls[3].ID, res.Failed[1].ID)

	var emails []string
	for _, ev := range h.bento.Received() {
		emails = append(emails, ev.Email)
	}
	require.Equal(t, []string{"bob@example.com", "dee@example.com"}, emails)
	left, err := store.Get(ctx, dls[1].ID)
	require.NoError(t, err)
	require.Equal(t, dls[1].Attempts+1, left.Attempts)

	rebuilt, err := bento.Replay(ctx, store, client, bento.ReplayOptions{
		Rebuild: func(context.Context, bento.DeadLetter) ([]*stream.Event, error) {
			return []*stream.Event{{Type: "order.placed", Email: "ann@example.com", Source: "pos"}}, nil
		},
	}, dls[3].ID)
	require.NoError(t, err)
	require.Equal(t, []int64{dls[3].ID}, rebuilt.Replayed, "a rule dead letter is replayed as rebuilt events")

	require.NoError(t, bento.Discard(ctx, store, dls[1].ID))
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	client.CloseIdleConnections()
}

// TestDeadLetterPutIsIdempotent: after a crash before the checkpoint was
// saved, the same row fails again at the same position; it must stay one
// dead letter, or a replay would send it twice.
func TestDeadLetterPutIsIdempotent(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	d := bento.DeadLetter{Kind: bento.KindRule, Rule: "r", Table: "public.orders", Key: "id=7", Reason: "email is NULL",
		Pos: stream.Position{CommitLSN: 0x10, Index: 3, Sub: 1}}
	require.NoError(t, store.Put(ctx, d))
	require.NoError(t, store.Put(ctx, d))
	other := d
	other.Key = "id=8"
	require.NoError(t, store.Put(ctx, other))
	long := d
	long.Key = "note=" + strings.Repeat("x", 10000) // longer than a btree entry may be
	require.NoError(t, store.Put(ctx, long))
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
}

// A dead letter without a stream position (a first-start backfill's, a
// reconcile repair's) is stored once per row while it waits, although
// dead_letters_once cannot compare NULL positions, and holds the newest
// failure: a retried write or the same row failing in a later backfill must
// not be replayed twice, nor with stale content. Once it is gone (replayed
// or discarded), the row's next failure is stored again.
func TestUnpositionedDeadLetterIsStoredOncePerRow(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	d := bento.DeadLetter{Kind: bento.KindRule, Rule: "r", Table: "public.orders", Key: "id=7", Reason: "backfill: email is NULL"}
	require.NoError(t, store.Put(ctx, d))
	again := d
	again.Reason = "backfill: email is NULL (a later run)"
	require.NoError(t, store.Put(ctx, again))
	other := d
	other.Key = "id=8"
	require.NoError(t, store.Put(ctx, other))
	otherRule := d
	otherRule.Rule = "r2"
	require.NoError(t, store.Put(ctx, otherRule))
	list, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 3, "one per (kind, rule, row)")
	require.Equal(t, "backfill: email is NULL (a later run)", list[0].Reason, "the newest failure is kept")

	require.NoError(t, store.Delete(ctx, list[0].ID))
	require.NoError(t, store.Put(ctx, d))
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), n, "stored again once the first was gone")
}

// Writes of the same position-less failure that interleave (a retry on
// another connection while the first write is still running) store one row.
func TestUnpositionedDeadLetterConcurrentWritesStoreOne(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	for row := range 30 {
		d := bento.DeadLetter{Kind: bento.KindRule, Rule: "r", Table: "public.orders", Key: "id=" + strconv.Itoa(row), Reason: "x"}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { assert.NoError(t, store.Put(ctx, d)) })
		}
		wg.Wait()
	}
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(30), n)
}
