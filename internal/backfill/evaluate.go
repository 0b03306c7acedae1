package backfill

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

// evaluator turns a chunk's rows into the items the rules make of them.
type evaluator struct {
	eval    *rules.Evaluator
	t       *table
	retries *rules.LookupRetries
}

func newEvaluator(set *rules.Set, q rules.Querier, t *table, log *slog.Logger) *evaluator {
	return &evaluator{eval: rules.NewEvaluator(set, q), t: t, retries: rules.NewLookupRetries(log, nil)}
}

// change is the OpSnapshot change of row i of chunk seq.
func (e *evaluator) change(seq int64, i int, row stream.Row, now time.Time) stream.Change {
	return stream.Change{
		Pos:        stream.Position{CommitLSN: stream.LSN(seq), Index: i},
		Op:         stream.OpSnapshot,
		Table:      e.t.name,
		Key:        e.t.key,
		New:        row,
		CommitTime: now,
	}
}

// items evaluates every row of c (chunk number seq) in key order.
func (e *evaluator) items(ctx context.Context, seq int64, c chunk, now time.Time) ([]stream.Item, error) {
	var out []stream.Item
	for i, row := range c.rows {
		ch := e.change(seq, i, row, now)
		var err error
		if out, err = e.evaluate(ctx, &ch, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// evaluate runs the rules on one change, retrying failed lookups like the
// stream does. A stop rule's failure ends the backfill.
func (e *evaluator) evaluate(ctx context.Context, c *stream.Change, dst []stream.Item) ([]stream.Item, error) {
	out, err := e.eval.EvaluateRetrying(ctx, c, dst, e.retries)
	if err != nil {
		return nil, fmt.Errorf("evaluate rules on %s: %w", c.Table, err)
	}
	return out, nil
}
