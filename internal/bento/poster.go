package bento

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/retry"
)

// pacer hands out request tokens: *rate.Limiter in production; a test
// releases them on a signal.
type pacer interface {
	Wait(ctx context.Context) error
}

var _ pacer = (*rate.Limiter)(nil)

// poster sends one batch until Bento gives a final answer, waiting out
// retryable failures. Sender and Replay share it.
type poster struct {
	client     *Client
	limiter    pacer
	initial    time.Duration // first retry interval
	maxBackoff time.Duration
	log        *slog.Logger
	metrics    *metrics
	health     *health // nil: a halt is a final answer (replay)
	// sleep waits between tries (retry.Sleep; tests observe the waits).
	sleep func(ctx context.Context, d time.Duration) error
}

// send posts events until the answer is final: ok, too large or rejected
// (and halt when p.health is nil). It returns the answer and the number of
// requests made, or ctx's error, in which case the batch was abandoned.
// tokenHeld says the caller already waited on the limiter for the first try.
func (p *poster) send(ctx context.Context, source string, events []json.RawMessage, tokenHeld bool) (result, int, error) {
	bo := retry.Backoff(p.initial, p.maxBackoff)
	for attempt := 1; ; attempt++ {
		if attempt > 1 || !tokenHeld {
			if err := p.limiter.Wait(ctx); err != nil {
				return result{}, attempt - 1, err
			}
		}
		res := p.client.post(ctx, source, events)
		if err := ctx.Err(); err != nil {
			return res, attempt, err
		}
		p.observe(ctx, res, len(events), attempt)
		wait, final := p.next(res, bo)
		if final {
			return res, attempt, nil
		}
		if err := p.sleep(ctx, wait); err != nil {
			return res, attempt, err
		}
	}
}

// next decides what follows an answer: a final result, or a wait and retry.
func (p *poster) next(res result, bo interface{ NextBackOff() time.Duration }) (time.Duration, bool) {
	switch res.outcome {
	case outcomeRetry:
		if p.health != nil {
			p.health.retrying(res.reason())
		}
		return max(bo.NextBackOff(), res.retryAfter), false
	case outcomeHalt:
		if p.health == nil {
			return 0, true
		}
		p.health.halt(res)
		return p.maxBackoff, false
	default:
		if p.health != nil {
			p.health.recover()
		}
		return 0, true
	}
}

// observe records metrics and logs one request. Header values are never
// logged.
func (p *poster) observe(ctx context.Context, res result, events, attempt int) {
	p.metrics.requests.WithLabelValues(res.statusLabel()).Inc()
	p.metrics.duration.Observe(res.duration.Seconds())
	attrs := []any{
		slog.String("outcome", res.outcome.String()), slog.Int("status", res.status),
		slog.Int("events", events), slog.Int("bytes", res.bytes),
		slog.Duration("duration", res.duration), slog.Int("attempt", attempt),
	}
	switch res.outcome {
	case outcomeOK:
		p.log.DebugContext(ctx, "bento request", attrs...)
	case outcomeRetry:
		p.log.WarnContext(ctx, "bento request failed; retrying", append(attrs, slog.String("reason", res.reason()))...)
	case outcomeHalt:
		p.log.DebugContext(ctx, "bento request halted", attrs...)
	case outcomePartial:
		p.log.InfoContext(ctx, "bento rejected events of a batch; dead-lettering them", append(attrs,
			slog.Int("failed", res.answer.Failed), slog.Int("named", len(res.answer.Errors)))...)
	default:
		p.log.InfoContext(ctx, "bento rejected a batch; isolating bad events", attrs...)
	}
	if res.unconfirmed > 0 {
		p.metrics.unconfirmed.Add(float64(res.unconfirmed))
		p.log.WarnContext(ctx, "the webhook accepted the request but reported failed events it does not name; "+
			"they cannot be dead-lettered (the events_api transport names them)", append(attrs, slog.Int("failed", res.unconfirmed))...)
	}
	// Payloads carry emails, so they are logged at debug level only; the
	// response is redacted (a relay may echo the request's headers).
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.DebugContext(ctx, "bento exchange", slog.String("payload", string(res.payload)),
			slog.String("response", truncate(res.body, maxStoredBody)))
	}
}
