// Package retry owns the one retry schedule every loop of the syncer uses:
// exponential backoff with jitter that never gives up on its own (only a
// context ends it) and whose maximum is a hard cap, jitter included. It does
// not decide what is retryable; callers do.
package retry

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// jitter spreads retries of many clients apart (±30%).
const jitter = 0.3

// Backoff returns the schedule: about initial, 2×, 4× … with jitter, never
// more than maxInterval (the cap applies after jitter, so an operator's
// max_backoff is a promise), never stopping by itself.
func Backoff(initial, maxInterval time.Duration) backoff.BackOff {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(initial),
		backoff.WithMaxInterval(maxInterval),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(jitter),
		backoff.WithMaxElapsedTime(0),
	)
	return &capped{ExponentialBackOff: b, max: maxInterval}
}

// capped clamps the jittered interval of an exponential backoff.
type capped struct {
	*backoff.ExponentialBackOff
	max time.Duration
}

func (c *capped) NextBackOff() time.Duration {
	d := c.ExponentialBackOff.NextBackOff()
	if d == backoff.Stop {
		return d
	}
	return min(d, c.max)
}

// Sleep waits d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
