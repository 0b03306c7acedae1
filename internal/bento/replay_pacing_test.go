package bento_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// putRejected stores n rejected events as dead letters, from seq first.
func putRejected(t *testing.T, store *bento.DeadLetterStore, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		require.NoError(t, store.Put(context.Background(), bento.DeadLetter{
			Kind: bento.KindRejected, Rule: "orders", Table: "public.orders", Key: fmt.Sprintf("id=%d", i),
			Reason: "bento answered HTTP 400", Status: 400, Pos: pos(i), Source: "pos",
			Event: json.RawMessage(fmt.Sprintf(`{"type":"order.placed","email":"dl%d@example.com","details":{"seq":%d}}`, i, i)),
		}))
	}
}

// Issue 11, item 8: with no syncer running, `cdc dlq replay` is paced by
// requests_per_minute (it used to send as fast as Bento answered).
func TestReplayIsPaced(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	fake := bentotest.NewServer(t)
	putRejected(t, store, 0, 5)
	cfg := bento.Config{SiteUUID: site, BaseURL: fake.URL, RequestsPerMinute: 600} // one per 100ms
	cfg.SetDefaults()
	client, err := bento.NewClient(cfg, nil, "test")
	require.NoError(t, err)
	defer client.CloseIdleConnections()
	start := time.Now()
	res, err := bento.Replay(context.Background(), store, client, bento.ReplayOptions{})
	require.NoError(t, err)
	require.Len(t, res.Replayed, 5)
	require.Len(t, fake.Requests(), 5)
	// The pacer lets the first request go at once and one more every 100ms.
	require.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)
}

// Issue 11, item 8: while a syncer runs, a replay is handed to it and sent
// through its own limiter, so live events and replayed ones together stay
// within requests_per_minute; the command learns what was replayed. The
// limiter holds exactly a few tokens and refills once an hour: every
// request, live or replayed, must have taken one of them.
func TestReplayHandOffSharesTheSyncerBudget(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	const budget = 20
	limiter := rate.NewLimiter(rate.Every(time.Hour), budget)
	h := newHarness(t, options{dlq: store, replays: &bento.ReplayOptions{}, limiter: limiter,
		cfg: func(c *bento.Config) { c.BatchSize = 1 }})
	putRejected(t, store, 100, 3)
	h.bento.RejectWhen(isSeq(101)) // rejected again: kept, with the attempt recorded
	h.enqueue(events(0, 4, func(i int) string { return fmt.Sprintf("live%d@example.com", i) })...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := bento.HandOff(ctx, store, 5*time.Millisecond)
	require.NoError(t, err)
	h.drain()
	require.Len(t, res.Replayed, 2)
	require.Len(t, res.Failed, 1)
	require.Contains(t, res.Failed[0].Reason, "400")
	kept, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, kept, 1)
	require.Equal(t, 1, kept[0].Attempts)

	got := map[int]bool{}
	for _, s := range seqs(t, h.bento.Received()) {
		got[s] = true
	}
	require.Equal(t, map[int]bool{0: true, 1: true, 2: true, 3: true, 100: true, 102: true}, got)
	require.Len(t, h.bento.Requests(), 4+3)
	require.InDelta(t, budget-7, limiter.Tokens(), 0.5, "every request, replayed ones included, took a token")

	again, err := bento.HandOff(ctx, store, 5*time.Millisecond, kept[0].ID)
	require.NoError(t, err)
	require.Len(t, again.Failed, 1, "a kept dead letter can be handed off again")
}
