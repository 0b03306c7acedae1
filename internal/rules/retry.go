package rules

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// EvaluateRetrying is Evaluate for the stream and the backfill: a lookup
// that fails because the database is unreachable (ErrLookup) is retried with
// backoff until it works or ctx ends, since the row is fine and the world is
// not; dead-lettering every row until someone noticed would be worse. Any
// other error is returned at once.
func (e *Evaluator) EvaluateRetrying(ctx context.Context, c *stream.Change, dst []stream.Item, log *slog.Logger) ([]stream.Item, error) {
	out, err := e.Evaluate(ctx, c, dst)
	if !errors.Is(err, ErrLookup) {
		return out, err // the common case: no retry machinery per change
	}
	op := func() error {
		var err error
		out, err = e.Evaluate(ctx, c, dst)
		if errors.Is(err, ErrLookup) {
			log.Warn("lookup failed; retrying the row", "table", c.Table, "error", err)
			return err
		}
		if err != nil {
			return backoff.Permanent(err)
		}
		return nil
	}
	b := retry.Backoff(500*time.Millisecond, 30*time.Second)
	if err := backoff.Retry(op, backoff.WithContext(b, ctx)); err != nil {
		return nil, err
	}
	return out, nil
}
