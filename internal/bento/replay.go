package bento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// ReplayResult says what a replay did.
type ReplayResult struct {
	Replayed []int64         // sent, accepted and removed
	Failed   []ReplayFailure // left in the table
}

// ReplayOptions tune Replay. The zero value is usable.
type ReplayOptions struct {
	Logger *slog.Logger
	// Limiter paces the requests (nil: requests_per_minute of the client's
	// config, as the syncer is paced).
	Limiter *rate.Limiter
	// Rebuild turns a rule dead letter back into events (for example by
	// decoding d.Change with stream.UnmarshalChange and evaluating the
	// fixed rules). Nil: rule dead letters stay where they are.
	Rebuild func(ctx context.Context, d DeadLetter) ([]*stream.Event, error)
	// Accepted receives the events of each request Bento accepted, before
	// the dead letter is removed, so they can be recorded in the delivery
	// ledger (origin replay). It should persist before it returns. Nil:
	// nothing is recorded.
	Accepted func(ctx context.Context, accepted []stream.Delivered)
}

// ReplayFailure is a dead letter that stayed.
type ReplayFailure struct {
	ID     int64
	Reason string
}

// Replay re-sends dead letters (all when ids is empty) one at a time in stream
// order, synchronously, paced like the syncer (requests_per_minute), with the
// sender's client and retry policy; use it when no syncer runs (HandOff
// otherwise, so the two do not share out one budget twice): a dead
// letter Bento accepts is removed, one it rejects again stays with the
// attempt recorded. Retryable failures are retried until ctx ends. A rule
// dead letter holds at best a partial event (sending it could, say, record a
// purchase without its amount), so it is re-sent only as the events
// opts.Rebuild makes of it. Replay stops with an error when Bento refuses
// the credentials or site.
func Replay(ctx context.Context, store *DeadLetterStore, client *Client, opts ReplayOptions, ids ...int64) (ReplayResult, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := newMetrics(nil)
	limiter := opts.Limiter
	if limiter == nil {
		limiter = NewLimiter(client.cfg)
	}
	p := &poster{client: client, limiter: limiter, initial: defaultInitialBackoff,
		maxBackoff: client.cfg.MaxBackoff, log: logger.With(slog.String("component", "bento")), metrics: m, sleep: retry.Sleep}
	return replayIDs(ctx, store, p, opts, ids)
}

// replayIDs replays the given dead letters (all when ids is empty) with p.
func replayIDs(ctx context.Context, store *DeadLetterStore, p *poster, opts ReplayOptions, ids []int64) (ReplayResult, error) {
	var out ReplayResult
	dls, err := store.List(ctx, ListOptions{IDs: ids})
	if err != nil {
		return out, fmt.Errorf("replay dead letters: %w", err)
	}
	for _, d := range dls {
		reason, err := replayOne(ctx, store, p, opts, d)
		if err != nil {
			return out, fmt.Errorf("replay dead letter %d: %w", d.ID, err)
		}
		if reason != "" {
			out.Failed = append(out.Failed, ReplayFailure{ID: d.ID, Reason: reason})
			continue
		}
		out.Replayed = append(out.Replayed, d.ID)
	}
	return out, nil
}

// replayOne sends one dead letter's events and settles it; a non-empty
// reason means it stays. Its events go in one request per webhook source
// (one request unless a rule makes a $change_email and events of the same
// change), so a dead letter is accepted or rejected as a whole; what Bento
// accepted is handed to opts.Accepted before the dead letter is removed.
func replayOne(ctx context.Context, store *DeadLetterStore, p *poster, opts ReplayOptions, d DeadLetter) (string, error) {
	sends, reason := replayable(ctx, opts.Rebuild, d)
	if reason != "" {
		return reason, store.RecordAttempt(ctx, d.ID, d.Status, keptReason(d, reason), d.Response)
	}
	for _, rq := range bySource(sends) {
		res, _, err := p.send(ctx, rq.source, rq.events, false)
		if err != nil {
			return "", err
		}
		switch res.outcome {
		case outcomeOK:
			if opts.Accepted != nil {
				opts.Accepted(ctx, rq.accepted(d, requestID(), time.Now()))
			}
			continue
		case outcomeHalt:
			return "", errors.New(res.reason() + ": check bento.site_uuid and keys")
		default:
			reason := res.reason()
			return reason, store.RecordAttempt(ctx, d.ID, res.status, reason, truncate(res.body, maxStoredBody))
		}
	}
	return "", store.Delete(ctx, d.ID)
}

// keptReason is the reason a dead letter that could not be rebuilt keeps:
// why the current rules still fail on it, or its own reason when nothing
// was tried.
func keptReason(d DeadLetter, reason string) string {
	if why, ok := strings.CutPrefix(reason, "rebuild: "); ok {
		return why
	}
	return d.Reason
}

type rebuildFunc = func(ctx context.Context, d DeadLetter) ([]*stream.Event, error)

// send is one event to re-send, its webhook source and, when it was
// rebuilt, the event itself.
type send struct {
	event  json.RawMessage
	source string
	ev     *stream.Event // nil: a stored wire event
}

// replayable lists what to send for d, or why it cannot be replayed.
func replayable(ctx context.Context, rebuild rebuildFunc, d DeadLetter) ([]send, string) {
	if d.Kind == KindRejected && isCommand(d.Event) {
		return []send{{d.Event, commandsSource, nil}}, ""
	}
	if d.Kind == KindRejected && sendable(d.Event) {
		src := d.Source
		if src == "" {
			src = DefaultSource
		}
		return []send{{d.Event, src, nil}}, ""
	}
	if d.Kind != KindRule || rebuild == nil {
		return nil, "not replayable: no complete event (fix the rule or row, then backfill)"
	}
	evs, err := rebuild(ctx, d)
	if err != nil {
		return nil, "rebuild: " + err.Error()
	}
	out := make([]send, 0, len(evs))
	for _, ev := range evs {
		raw, err := EncodeEvent(ev)
		if err != nil {
			return nil, "rebuild: " + err.Error()
		}
		src := sourceOf(ev)
		if ev.Type == stream.TypeChangeEmail {
			src = commandsSource
		}
		out = append(out, send{raw, src, ev})
	}
	return out, ""
}

// sendable reports whether raw is an event Bento could accept.
func sendable(raw json.RawMessage) bool {
	var ev struct {
		Type  string `json:"type"`
		Email string `json:"email"`
	}
	return json.Unmarshal(raw, &ev) == nil && ev.Type != "" && ev.Email != ""
}

// isCommand reports whether raw is a stored command (change_email).
func isCommand(raw json.RawMessage) bool {
	var c command
	return json.Unmarshal(raw, &c) == nil && c.Command != "" && c.Email != "" && c.Query != ""
}

// Discard removes the given dead letters without sending them.
func Discard(ctx context.Context, store *DeadLetterStore, ids ...int64) error {
	if len(ids) == 0 {
		return errors.New("discard dead letters: no ids given")
	}
	return store.Delete(ctx, ids...)
}
