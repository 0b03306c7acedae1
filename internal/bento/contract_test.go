package bento_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/stream"
)

// eventsAPI configures the Events API with keys the fake checks.
func eventsAPI(c *bento.Config) {
	c.Transport, c.PublishableKey, c.SecretKey = bento.TransportEventsAPI, "pk_live_1", "sk_live_secret"
}

func eventsAPIFake(s *bentotest.Server) {
	s.SetOptions(bentotest.Options{SiteUUID: site, PublishableKey: "pk_live_1", SecretKey: "sk_live_secret"})
}

// requireDeadLetters checks how many dead letters the store holds.
func requireDeadLetters(t *testing.T, store *bento.DeadLetterStore, want int64, msg ...any) {
	t.Helper()
	n, err := store.Count(context.Background())
	require.NoError(t, err)
	require.Equal(t, want, n, msg...)
}

// sentTimes counts how often each details.seq reached the fake (accepted).
func sentTimes(t *testing.T, evs []bentotest.ReceivedEvent) map[int]int {
	out := map[int]int{}
	for _, s := range seqs(t, evs) {
		out[s]++
	}
	return out
}

// Issue 11, item 1: a redirect is an answer, never followed. Delivery halts
// like a wrong base_url (one ERROR naming status and Location, unhealthy,
// nothing acknowledged, nothing sent to the new location) and resumes by
// itself when the answer changes.
func TestRedirectsHaltAndAreNeverFollowed(t *testing.T) {
	for _, status := range []int{302, 307} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			noLeaks(t)
			elsewhere := bentotest.NewServer(t)
			h := newHarness(t, options{
				cfg: func(c *bento.Config) {
					c.MaxBackoff = 20 * time.Millisecond
					c.Headers = map[string]string{"X-Relay-Token": "relay-secret"}
					c.SigningSecret = "whsec"
				},
				fake: func(s *bentotest.Server) {
					s.SetFault(&bentotest.Response{Status: status, Location: elsewhere.URL + "/landing"})
				},
			})
			h.enqueue(events(0, 2, ann)...)
			require.Eventually(t, func() bool { return len(h.bento.Requests()) >= 3 }, 10*time.Second, time.Millisecond)
			ok, reason := h.sender.Healthy()
			require.False(t, ok)
			require.Contains(t, reason, fmt.Sprintf("HTTP %d redirecting to %q", status, elsewhere.URL+"/landing"))
			require.Equal(t, 1, strings.Count(h.logs.String(), "level=ERROR"), h.logs.String())
			require.Empty(t, elsewhere.Requests(), "the redirect was followed")
			require.True(t, h.lastAck().IsZero(), "nothing is delivered by a redirect")
			require.Equal(t, 2, h.sender.Pending())

			h.bento.SetFault(nil)
			h.drain()
			require.Equal(t, seqRange(0, 2), seqs(t, h.bento.Received()))
			ok, _ = h.sender.Healthy()
			require.True(t, ok)
			require.Empty(t, elsewhere.Requests())
		})
	}
}

// Issue 11, item 3: a 4xx that says the request or config is wrong halts
// instead of dead-lettering every event.
func TestRequestErrorsHalt(t *testing.T) {
	for _, status := range []int{405, 406, 409, 410, 415} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			noLeaks(t)
			store := newStore(t)
			h := newHarness(t, options{dlq: store,
				cfg:  func(c *bento.Config) { c.MaxBackoff = 20 * time.Millisecond },
				fake: func(s *bentotest.Server) { s.SetFault(&bentotest.Response{Status: status}) },
			})
			h.enqueue(events(0, 3, ann)...)
			require.Eventually(t, func() bool { return len(h.bento.Requests()) >= 3 }, 10*time.Second, time.Millisecond)
			ok, reason := h.sender.Healthy()
			require.False(t, ok)
			require.Contains(t, reason, fmt.Sprintf("HTTP %d: the request or the config is wrong", status))
			requireDeadLetters(t, store, 0, "no event is dead-lettered for a wrong request")
			h.bento.SetFault(nil)
			h.drain()
			require.Equal(t, seqRange(0, 3), seqs(t, h.bento.Received()))
		})
	}
}

// Issue 11, item 2: one bad event among 96 is dead-lettered with Bento's
// reason in one request; no accepted event is sent again.
func TestPartialFailureIsExact(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true, cfg: eventsAPI, fake: func(s *bentotest.Server) {
		eventsAPIFake(s)
		s.RejectWhen(isSeq(37))
	}})
	h.expectDead(pos(37))
	h.enqueue(events(0, 96, ann)...)
	h.run()
	h.drain()
	require.Equal(t, append(seqRange(0, 37), seqRange(38, 96)...), seqs(t, h.bento.Received()))
	require.Len(t, h.bento.Requests(), 1, "nothing is sent again")
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, pos(37).CommitLSN, dls[0].Pos.CommitLSN)
	require.Equal(t, "bento rejected the event: invalid event", dls[0].Reason)
	require.Equal(t, 200, dls[0].Status)
	require.Equal(t, 1, dls[0].Attempts)
	require.Zero(t, h.counter("cdc_bento_resent_events_total", "", ""))
	require.Equal(t, pos(95), h.lastAck())
}

// A batch where every event fails gets 422 with the list: all are
// dead-lettered from that one answer.
func TestAllRejectedIs422(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true, cfg: eventsAPI, fake: func(s *bentotest.Server) {
		eventsAPIFake(s)
		s.RejectWhen(func(bentotest.ReceivedEvent) bool { return true })
	}})
	for i := range 5 {
		h.expectDead(pos(i))
	}
	h.enqueue(events(0, 5, ann)...)
	h.run()
	h.drain()
	require.Len(t, h.bento.Requests(), 1)
	require.Equal(t, 422, h.bento.Requests()[0].Status)
	requireDeadLetters(t, store, 5)
}

// More than 20 failures: Bento names the first 20. Unnamed events up to the
// last named one were accepted and are never sent again; only those after
// it are, and the bound is what the README states: an accepted event is
// re-sent at most floor(B/20) times, B the rejected events before it.
func TestPartialFailureBeyondTwentyListed(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	bad := func(i int) bool { return i%3 == 0 } // 34 of 100
	h := newHarness(t, options{dlq: store, noRun: true, cfg: eventsAPI, fake: func(s *bentotest.Server) {
		eventsAPIFake(s)
		s.RejectWhen(func(ev bentotest.ReceivedEvent) bool {
			n, _ := ev.Details["seq"].(json.Number).Int64()
			return bad(int(n))
		})
	}})
	var good []int
	for i := range 100 {
		if bad(i) {
			h.expectDead(pos(i))
		} else {
			good = append(good, i)
		}
	}
	h.enqueue(events(0, 100, ann)...)
	h.run()
	h.drain()
	times := sentTimes(t, h.bento.Received())
	badBefore := 0
	for i := range 100 {
		if bad(i) {
			require.Zero(t, times[i])
			badBefore++
			continue
		}
		require.GreaterOrEqual(t, times[i], 1, "event %d lost", i)
		require.LessOrEqual(t, times[i]-1, badBefore/20, "event %d re-sent beyond the bound", i)
		if i < 57 { // seq 57 is the 20th bad one: everything before it was settled by the first answer
			require.Equal(t, 1, times[i], "event %d was accepted and named as such", i)
		}
	}
	requireDeadLetters(t, store, 34)
	require.Len(t, h.bento.Requests(), 2)
	require.EqualValues(t, 100-58, h.counter("cdc_bento_resent_events_total", "", ""))
	require.Equal(t, pos(99), h.lastAck())
}

// An older server answers "failed" without naming the events: bisection
// finds them, and the events it sends again are counted.
func TestPartialFailureWithoutListBisectsAndCounts(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true, cfg: eventsAPI, fake: func(s *bentotest.Server) {
		eventsAPIFake(s)
		s.Script(bentotest.Response{Status: 200, Body: `{"results":3,"failed":1}`},
			bentotest.Response{Status: 200, Body: `{"results":1,"failed":1}`},
			bentotest.Response{Status: 200, Body: `{"results":0,"failed":1}`})
	}})
	h.expectDead(pos(0))
	h.enqueue(events(0, 4, ann)...)
	h.run()
	h.drain()
	// 4 -> [0,1] failed=1 -> [0] failed=1 (dead) -> [1] ok; [2,3] ok.
	require.EqualValues(t, 4+2, h.counter("cdc_bento_resent_events_total", "", ""))
	requireDeadLetters(t, store, 1)
}

// Issue 11, item 4: the webhook answering 2xx with failed events is
// counted and logged, not silent.
func TestWebhookReportedFailuresAreCounted(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true, fake: func(s *bentotest.Server) {
		s.Script(bentotest.Response{Status: 201, Body: `{"results":2,"failed":1}`})
	}})
	for i := range 3 {
		h.expectDead(pos(i)) // answered by the script, not recorded
	}
	h.enqueue(events(0, 3, ann)...)
	h.run()
	h.drain()
	require.EqualValues(t, 1, h.counter("cdc_bento_webhook_failed_events_total", "", ""))
	require.Contains(t, h.logs.String(), "level=WARN msg=\"the webhook accepted the request but reported failed events")
}

// Issue 11, item 5: null fields and details are left out unless
// send_nulls is set.
func TestNullValuesAreOmittedByDefault(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("send_nulls=", keep), func(t *testing.T) {
			noLeaks(t)
			h := newHarness(t, options{cfg: func(c *bento.Config) { c.SendNulls = keep }})
			it := event(0, "ann@example.com")
			it.Event.Fields = map[string]any{"plan": nil, "name": "Ann"}
			it.Event.Details = map[string]any{"seq": 0, "note": nil, "cart": map[string]any{"coupon": nil, "n": 1},
				"items": []any{map[string]any{"sku": nil}, nil}}
			if keep {
				h.expectDead(it.Pos) // the ack check compares with the default encoding
			}
			h.enqueue(it)
			h.drain()
			raw := string(h.bento.Received()[0].Raw)
			want := `{"type":"order.placed","email":"ann@example.com","fields":{"name":"Ann"},` +
				`"details":{"cart":{"n":1},"items":[{},null],"seq":0}}`
			if keep {
				want = `{"type":"order.placed","email":"ann@example.com","fields":{"name":"Ann","plan":null},` +
					`"details":{"cart":{"coupon":null,"n":1},"items":[{"sku":null},null],"note":null,"seq":0}}`
			}
			require.JSONEq(t, want, raw)
		})
	}
}

// Issue 11, item 6: site_uuid goes in the Events API's query (required
// there) and in the body.
func TestSiteUUIDInQueryAndBody(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{cfg: eventsAPI, fake: eventsAPIFake})
	h.enqueue(event(0, "ann@example.com"))
	h.drain()
	req := h.bento.Requests()[0]
	require.Equal(t, 200, req.Status)
	require.Equal(t, "site_uuid="+site, req.Query)
	require.Contains(t, string(req.Body), `"site_uuid":"`+site+`"`)
}

// Issue 11, item 9: secrets never reach logs or stored rows, even when a
// relay echoes the request headers back, at debug level too.
func TestEchoedSecretsAreRedacted(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	secrets := []string{"sk_live_secret", "pk_live_1", "cGtfbGl2ZV8xOnNrX2xpdmVfc2VjcmV0", "relay-secret", "whsec_abc"}
	echo := `{"error":"bad","echo":{"Authorization":"Basic cGtfbGl2ZV8xOnNrX2xpdmVfc2VjcmV0",` +
		`"X-Relay":"relay-secret","note":"keys pk_live_1 sk_live_secret whsec_abc"}}`
	h := newHarness(t, options{dlq: store, cfg: func(c *bento.Config) {
		eventsAPI(c)
		c.Headers = map[string]string{"X-Relay": "relay-secret"}
		c.SigningSecret = "whsec_abc"
	}, fake: func(s *bentotest.Server) {
		s.Script(bentotest.Response{Status: 200, Body: echo}, bentotest.Response{Status: 400, Body: echo},
			bentotest.Response{Status: 302, Location: "https://relay.example/?token=relay-secret"})
	}})
	h.expectDead(pos(0)) // answered by the script, not recorded
	h.expectDead(pos(1))
	h.enqueue(event(0, "ann@example.com"))
	h.drain()
	h.enqueue(event(1, "ann@example.com"))
	h.drain()
	h.enqueue(event(2, "ann@example.com"))
	h.drain()
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	stored, err := json.Marshal(dls)
	require.NoError(t, err)
	logs := h.logs.String()
	require.Contains(t, logs, "bento exchange", "the debug exchange log ran")
	require.Contains(t, logs, "[redacted]")
	require.Contains(t, dls[0].Response, "[redacted]")
	for _, s := range secrets {
		require.NotContains(t, logs, s)
		require.NotContains(t, string(stored), s)
	}
}

// Issue 11, item 12: a change_email goes to the commands endpoint after
// every earlier event for the old address and before every later event
// for the new one, with the two addresses in different partitions and the
// old one's requests slow.
func TestChangeEmailIsABarrierAcrossPartitions(t *testing.T) {
	noLeaks(t)
	const parts = 4
	old, next := "old@example.com", ""
	for i := range 100 {
		cand := fmt.Sprintf("new%d@example.com", i)
		if bento.Partition(cand, parts) != bento.Partition(old, parts) {
			next = cand
			break
		}
	}
	h := newHarness(t, options{noRun: true, cfg: func(c *bento.Config) {
		eventsAPI(c)
		c.Concurrency, c.BatchSize = parts, 3
	}, fake: func(s *bentotest.Server) {
		eventsAPIFake(s)
		s.SetFault(&bentotest.Response{Delay: 5 * time.Millisecond})
	}})
	var items []stream.Item
	for i := range 10 {
		items = append(items, event(i, old))
	}
	change := event(10, old)
	change.Event.Type, change.Event.NewEmail = stream.TypeChangeEmail, next
	h.expectDead(change.Pos) // a command, not an event
	items = append(items, change)
	for i := 11; i < 20; i++ {
		items = append(items, event(i, next))
	}
	h.enqueue(items...)
	h.run()
	h.drain()

	cmds := h.bento.Commands()
	require.Len(t, cmds, 1)
	require.Equal(t, bentotest.Command{Command: "change_email", Email: old, Query: next, Request: cmds[0].Request}, cmds[0])
	for _, ev := range h.bento.Received() {
		if ev.Email == old {
			require.Less(t, ev.Request, cmds[0].Request, "an old-address event after the change")
		} else {
			require.Greater(t, ev.Request, cmds[0].Request, "a new-address event before the change")
		}
	}
	require.Len(t, h.bento.Received(), 19)
	require.Equal(t, pos(19), h.lastAck())
	req := h.bento.Requests()[cmds[0].Request]
	require.Equal(t, "/api/v1/fetch/commands", req.Path)
	require.Equal(t, "site_uuid="+site, req.Query)
}

// Commands go at most 100 a request.
func TestCommandsAreBatchedByHundred(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, options{noRun: true, cfg: eventsAPI, fake: eventsAPIFake})
	for i := range 150 {
		it := event(i, fmt.Sprintf("u%d@example.com", i))
		it.Event.Type, it.Event.NewEmail = stream.TypeChangeEmail, fmt.Sprintf("v%d@example.com", i)
		h.expectDead(it.Pos) // not an event at Bento: the ack check looks for events only
		h.enqueue(it)
	}
	h.run()
	h.drain()
	require.Len(t, h.bento.Commands(), 150)
	require.Len(t, h.bento.Requests(), 2)
	require.Equal(t, pos(149), h.lastAck())
}

// The webhook cannot send commands: a change_email that reaches a webhook
// sender is dead-lettered with the reason, never sent as an event.
func TestChangeEmailNeedsEventsAPI(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store})
	it := event(0, "old@example.com")
	it.Event.Type, it.Event.NewEmail = stream.TypeChangeEmail, "new@example.com"
	h.expectDead(it.Pos)
	h.enqueue(it)
	h.drain()
	require.Empty(t, h.bento.Requests())
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Contains(t, dls[0].Reason, "webhook transport cannot send change_email")
	require.JSONEq(t, `{"command":"change_email","email":"old@example.com","query":"new@example.com"}`, string(dls[0].Event),
		"stored as the command, so a replay sends a command, not an event named $change_email")
}

// Finding R3: an answer that cannot list the lowest failing indexes (more
// unlisted events before its last listed one than it accepted, or any on a
// 422, where every event was rejected) marks no unlisted event delivered:
// all of them are sent again and counted; the listed ones are dead letters.
func TestInconsistentListingResendsUnlisted(t *testing.T) {
	for name, answer := range map[string]bentotest.Response{
		"results below the unlisted": {Status: 200, Body: `{"results":1,"failed":3,"errors":[{"index":3,"error":"invalid event"}]}`},
		"422 with an unlisted event": {Status: 422, Body: `{"results":2,"failed":2,"errors":[{"index":1,"error":"invalid event"}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			store := newStore(t)
			h := newHarness(t, options{dlq: store, noRun: true, cfg: eventsAPI, fake: func(s *bentotest.Server) {
				eventsAPIFake(s)
				s.Script(answer)
			}})
			listed := 3
			if answer.Status == 422 {
				listed = 1
			}
			h.expectDead(pos(listed))
			h.enqueue(events(0, 5, ann)...)
			h.run()
			h.drain()
			var want []int
			for i := range 5 {
				if i != listed {
					want = append(want, i)
				}
			}
			require.Equal(t, want, seqs(t, h.bento.Received()), "every unlisted event is sent again")
			require.Len(t, h.bento.Requests(), 2)
			require.EqualValues(t, 4, h.counter("cdc_bento_resent_events_total", "", ""))
			requireDeadLetters(t, store, 1)
			require.Equal(t, pos(4), h.lastAck())
		})
	}
}
