package bento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/time/rate"
)

// ReplayResult says what a replay did.
type ReplayResult struct {
	Replayed []int64         // sent, accepted and removed
	Failed   []ReplayFailure // left in the table
}

// ReplayFailure is a dead letter that stayed.
type ReplayFailure struct {
	ID     int64
	Reason string
}

// Replay re-sends dead letters (all when ids is empty) one at a time in id
// order, synchronously, with the sender's client and retry policy: a dead
// letter Bento accepts is removed, one it rejects again stays with the
// attempt recorded. Retryable failures are retried until ctx ends. A rule
// dead letter without a complete event cannot be sent and stays. It stops
// with an error when Bento refuses the credentials or site.
func Replay(ctx context.Context, store *DeadLetterStore, client *Client, logger *slog.Logger, ids ...int64) (ReplayResult, error) {
	var out ReplayResult
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(nil)
	if err != nil {
		return out, err
	}
	p := &poster{client: client, limiter: rate.NewLimiter(rate.Inf, 1), initial: defaultInitialBackoff,
		maxBackoff: client.cfg.MaxBackoff, log: logger.With(slog.String("component", "bento")), metrics: m}
	dls, err := store.List(ctx, ListOptions{IDs: ids})
	if err != nil {
		return out, fmt.Errorf("replay dead letters: %w", err)
	}
	for _, d := range dls {
		reason, err := replayOne(ctx, store, p, d)
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

// replayOne sends one dead letter and settles it; a non-empty reason means
// it stays.
func replayOne(ctx context.Context, store *DeadLetterStore, p *poster, d DeadLetter) (string, error) {
	if d.Kind != KindRejected || !sendable(d.Event) {
		return "not replayable: a rule failure or an incomplete event (fix the rule or row, then backfill)", nil
	}
	source := d.Source
	if source == "" {
		source = DefaultSource
	}
	res, _, err := p.send(ctx, source, []json.RawMessage{d.Event}, false)
	if err != nil {
		return "", err
	}
	switch res.outcome {
	case outcomeOK:
		return "", store.Delete(ctx, d.ID)
	case outcomeHalt:
		return "", errors.New(res.reason() + ": check bento.site_uuid and keys")
	default:
		reason := res.reason()
		return reason, store.RecordAttempt(ctx, d.ID, res.status, reason, truncate(res.body, maxStoredBody))
	}
}

// sendable reports whether raw is an event Bento could accept.
func sendable(raw json.RawMessage) bool {
	var ev struct {
		Type  string `json:"type"`
		Email string `json:"email"`
	}
	return json.Unmarshal(raw, &ev) == nil && ev.Type != "" && ev.Email != ""
}

// Discard removes the given dead letters without sending them.
func Discard(ctx context.Context, store *DeadLetterStore, ids ...int64) error {
	if len(ids) == 0 {
		return errors.New("discard dead letters: no ids given")
	}
	return store.Delete(ctx, ids...)
}
