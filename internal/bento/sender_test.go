package bento_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/stream"
)

// Transient failures are retried until Bento takes the batch; nothing is
// lost, duplicated or reordered, and the last position is acknowledged.
func TestTransientFaultsAreRetried(t *testing.T) {
	tests := []struct {
		name   string
		script []bentotest.Response
	}{
		{"503 for a while", []bentotest.Response{{Status: 503}, {Status: 503}, {Status: 503}}},
		{"500 with a body", []bentotest.Response{{Status: 500, Body: `{"error":"boom"}`}}},
		{"429 without Retry-After", []bentotest.Response{{Status: 429}}},
		{"408", []bentotest.Response{{Status: 408}}},
		{"timeout", []bentotest.Response{{Hang: true}}},
		{"connection closed", []bentotest.Response{{CloseConn: true}, {CloseConn: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			h := newHarness(t, options{
				cfg:  func(c *bento.Config) { c.Timeout = 300 * time.Millisecond },
				fake: func(s *bentotest.Server) { s.Script(tt.script...) },
			})
			h.enqueue(events(0, 3, ann)...)
			h.drain()
			require.Equal(t, seqRange(0, 3), seqs(t, h.bento.Received()))
			reqs := h.bento.Requests()
			require.Greater(t, len(reqs), len(tt.script), "the faults were answered and retried")
			require.Equal(t, 200, reqs[len(reqs)-1].Status)
			require.Equal(t, pos(2), h.lastAck())
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{fake: func(s *bentotest.Server) {
		s.Script(bentotest.Response{Status: 429, RetryAfter: "2"})
	}})
	h.enqueue(event(0, "ann@example.com"))
	h.drain()
	reqs := h.bento.Requests()
	require.Len(t, reqs, 2)
	require.GreaterOrEqual(t, reqs[1].Time.Sub(reqs[0].Time), 2*time.Second)
}

func TestConnectionRefusedThenUp(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{})
	h.bento.Stop()
	h.enqueue(events(0, 5, ann)...)
	require.Eventually(t, func() bool {
		return h.counter("cdc_bento_requests_total", "status", "error") >= 3
	}, 10*time.Second, 10*time.Millisecond, "the sender keeps retrying while Bento is down")
	require.Equal(t, 5, h.sender.Pending())
	require.True(t, h.lastAck().IsZero())

	h.bento.Start(t)
	h.drain()
	require.Equal(t, seqRange(0, 5), seqs(t, h.bento.Received()))
	require.Equal(t, pos(4), h.lastAck())
}

func TestTooLargeSplits(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true, fake: func(s *bentotest.Server) { s.SetLimits(10, 0) }})
	h.enqueue(events(0, 40, ann)...) // before Run: one batch of 40
	h.run()
	h.drain()
	require.Equal(t, seqRange(0, 40), seqs(t, h.bento.Received()))
	var statuses []int
	for _, r := range h.bento.Requests() {
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []int{413, 413, 200, 200, 413, 200, 200}, statuses, "40 -> 20+20 -> 10+10, 10+10")
}

// 401 halts delivery: nothing is dropped or acknowledged, the sender is
// unhealthy with one error logged; once the credentials are accepted it
// recovers by itself.
func TestUnauthorizedHaltsAndRecovers(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{
		cfg: func(c *bento.Config) {
			c.Transport, c.PublishableKey, c.SecretKey = bento.TransportEventsAPI, "pk", "sk"
			c.MaxBackoff = 50 * time.Millisecond
		},
		fake: func(s *bentotest.Server) {
			s.SetOptions(bentotest.Options{SiteUUID: site, PublishableKey: "pk", SecretKey: "rotated"})
		},
	})
	h.enqueue(events(0, 4, ann)...)
	require.Eventually(t, func() bool { return len(h.bento.Requests()) >= 4 }, 10*time.Second, 5*time.Millisecond)
	ok, reason := h.sender.Healthy()
	require.False(t, ok)
	require.Equal(t, "Bento rejected the credentials/site (401): check bento.site_uuid and keys", reason)
	require.Equal(t, 1, strings.Count(h.logs.String(), "Bento rejected the credentials/site"), "logged once")
	require.Equal(t, 4, h.sender.Pending())
	require.True(t, h.lastAck().IsZero())
	require.Empty(t, h.bento.Received())

	h.bento.SetOptions(bentotest.Options{SiteUUID: site, PublishableKey: "pk", SecretKey: "sk"})
	h.drain()
	require.Equal(t, seqRange(0, 4), seqs(t, h.bento.Received()))
	ok, _ = h.sender.Healthy()
	require.True(t, ok)
	require.Contains(t, h.logs.String(), "delivery resumed")
	require.NotContains(t, h.logs.String(), "sk", "the secret key is never logged")
}

// An ack never runs ahead of Bento's 2xx, and a Mark waits for the events
// before it.
func TestAckOnlyAfterDelivery(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{
		cfg:  func(c *bento.Config) { c.Timeout = time.Minute }, // in flight until the test stops the fake, however slow the test
		fake: func(s *bentotest.Server) { s.Script(bentotest.Response{Delay: time.Hour}) },
	})
	mark := stream.Item{Kind: stream.ItemMark, Pos: stream.Position{CommitLSN: pos(0).CommitLSN, EndLSN: pos(0).EndLSN, Index: 1}}
	h.enqueue(event(0, "ann@example.com"), mark)
	require.Eventually(t, func() bool { return len(h.bento.Requests()) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.True(t, h.lastAck().IsZero(), "no ack while the request is in flight")
	require.Equal(t, 2, h.sender.Pending())

	h.bento.Stop() // the delayed request fails; the retry finds Bento up again
	h.bento.Start(t)
	h.drain()
	require.Equal(t, mark.Pos, h.lastAck())
	require.Len(t, h.bento.Received(), 1)
}

func TestMarksAloneAreAcknowledged(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{})
	for i := range 3 {
		h.enqueue(stream.Item{Kind: stream.ItemMark, Pos: pos(i)})
	}
	h.drain()
	require.Equal(t, pos(2), h.lastAck())
	require.Empty(t, h.bento.Requests())
}

// Under concurrency with faults, each email's events arrive in order and
// every event arrives exactly once.
func TestPerEmailOrderWithConcurrency(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{
		cfg: func(c *bento.Config) { c.Concurrency, c.BatchSize = 4, 7 },
		fake: func(s *bentotest.Server) {
			s.Script(bentotest.Response{Status: 503}, bentotest.Response{Delay: 20 * time.Millisecond},
				bentotest.Response{Status: 502}, bentotest.Response{CloseConn: true})
		},
	})
	email := func(i int) string { return fmt.Sprintf("user%d@example.com", i%10) }
	h.enqueue(events(0, 500, email)...)
	h.drain()
	got := h.bento.Received()
	require.Len(t, got, 500)
	last := map[string]int{}
	for i, s := range seqs(t, got) {
		e := got[i].Email
		prev, seen := last[e]
		require.True(t, !seen || s > prev, "%s: event %d after %d", e, s, prev)
		last[e] = s
	}
	require.Equal(t, pos(499), h.lastAck())
}

// Events of one email in different sources keep their order: a batch is cut
// where the source changes.
func TestSourcesGoInSeparateRequestsInOrder(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true})
	var items []stream.Item
	for i, src := range []string{"pos", "pos", "billing", "pos", ""} {
		it := event(i, "ann@example.com")
		it.Event.Source = src
		items = append(items, it)
	}
	h.enqueue(items...)
	h.run()
	h.drain()
	var paths []string
	for _, r := range h.bento.Requests() {
		paths = append(paths, r.Path)
	}
	require.Equal(t, []string{
		"/webhooks/" + site + "/pos/track", "/webhooks/" + site + "/billing/track",
		"/webhooks/" + site + "/pos/track", "/webhooks/" + site + "/generic/track",
	}, paths)
	require.Equal(t, seqRange(0, 5), seqs(t, h.bento.Received()))
}

// A quiet stream sends at once; while a request is in flight the next batch
// fills (group commit). The first request is answered only once the next
// events are queued: a fixed delay would let a slow test enqueue them after
// the answer, in more batches.
func TestGroupCommit(t *testing.T) {
	noLeaks(t)
	release := make(chan struct{})
	h := newHarness(t, options{
		cfg:  func(c *bento.Config) { c.Timeout = time.Minute }, // the held request must not time out and be retried
		fake: func(s *bentotest.Server) { s.Script(bentotest.Response{Release: release}) },
	})
	start := time.Now()
	h.enqueue(event(0, "ann@example.com"))
	require.Eventually(t, func() bool { return len(h.bento.Requests()) == 1 }, 10*time.Second, time.Millisecond)
	require.Less(t, h.bento.Requests()[0].Time.Sub(start), 500*time.Millisecond, "no batching delay on a quiet stream")
	h.enqueue(events(1, 50, ann)...)
	close(release)
	h.drain()
	reqs := h.bento.Requests()
	require.Len(t, reqs, 2, "the 49 events enqueued during the first request went in one batch")
	require.Equal(t, seqRange(0, 50), seqs(t, h.bento.Received()))
}

// Enqueue blocks when QueueSize items are outstanding, until ctx ends.
func TestEnqueueBackPressure(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{
		cfg:  func(c *bento.Config) { c.QueueSize = 2 },
		fake: func(s *bentotest.Server) { s.SetFault(&bentotest.Response{Status: 503}) },
	})
	h.enqueue(events(0, 2, ann)...)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, h.sender.Enqueue(ctx, event(2, "ann@example.com")), context.DeadlineExceeded)
	h.bento.SetFault(nil)
	h.drain()
	require.NoError(t, h.sender.Enqueue(context.Background(), event(2, "ann@example.com")))
	h.drain()
	require.Equal(t, pos(2), h.lastAck())
}

// Cancelling Run abandons a hanging request without acknowledging it.
func TestRunStopsPromptlyAndAbandons(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true, fake: func(s *bentotest.Server) {
		s.SetFault(&bentotest.Response{Hang: true})
	}})
	h.enqueue(event(0, "ann@example.com"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.sender.Run(ctx) }()
	require.Eventually(t, func() bool { return len(h.bento.Requests()) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Second):
		t.Fatal("Run did not return after cancel")
	}
	require.True(t, h.lastAck().IsZero())
	require.Equal(t, 1, h.sender.Pending())

	h.bento.SetFault(nil)
	h.run() // the abandoned event is sent by the next Run
	h.drain()
	require.Equal(t, pos(0), h.lastAck())
	require.Len(t, h.bento.Received(), 1)
}

// max_backoff is a hard cap: no wait between retries exceeds it, jitter
// included (issue 11, item 7; it used to reach 1.3x).
func TestWaitsNeverExceedMaxBackoff(t *testing.T) {
	noLeaks(t)
	const maxBackoff = 100 * time.Millisecond
	var mu sync.Mutex
	var waits []time.Duration
	h := newHarness(t, options{noRun: true,
		cfg:  func(c *bento.Config) { c.MaxBackoff = maxBackoff },
		fake: func(s *bentotest.Server) { s.SetFault(&bentotest.Response{Status: 503}) },
	})
	bento.SetInitialBackoff(h.sender, maxBackoff)
	bento.ObserveWaits(h.sender, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
	})
	h.run()
	h.enqueue(event(0, "ann@example.com"))
	require.Eventually(t, func() bool { return len(h.bento.Requests()) >= 60 }, 10*time.Second, time.Millisecond)
	h.bento.SetFault(nil)
	h.drain()
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(waits), 59)
	for i, d := range waits {
		require.LessOrEqual(t, d, maxBackoff, "wait %d", i)
		require.Positive(t, d)
	}
}
