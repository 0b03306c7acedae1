package pipeline

import (
	"context"
	"fmt"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

// evaluate turns each change into items and hands them to the sender, in
// stream order. A commit becomes a mark, so the checkpoint advances past
// transactions that produced no events. A lookup that fails because the
// database is unreachable is retried (holding the stream) rather than
// dead-lettered: the row is fine, the world is not.
//
// Before its own items, each change passes the in-stream backfill's
// windows: a high watermark becomes its chunk's items, at its place in the
// stream (internal/backfill, "Inside the stream"). Each change's bytes go
// back to the change queue's budget (release) once its items are enqueued,
// where the sender's own budget takes over.
func (s *Syncer) evaluate(ctx context.Context, eval *rules.Evaluator, windows *backfill.Windows, sender *bento.Sender,
	changes <-chan stream.Change, release func(*stream.Change)) error {
	var items []stream.Item
	chunkEval := func(ctx context.Context, c *stream.Change, dst []stream.Item) ([]stream.Item, error) {
		return eval.EvaluateRetrying(ctx, c, dst, s.lookups)
	}
	for c := range changes {
		var err error
		items, err = windows.Observe(ctx, &c, chunkEval, items[:0])
		if err == nil {
			items, err = s.itemsFor(ctx, eval, &c, items)
		}
		if err != nil {
			return err
		}
		for _, it := range items {
			s.m.countItem(it)
			if err := sender.Enqueue(ctx, it); err != nil {
				return err
			}
		}
		release(&c)
	}
	return nil
}

func (s *Syncer) itemsFor(ctx context.Context, eval *rules.Evaluator, c *stream.Change, dst []stream.Item) ([]stream.Item, error) {
	switch c.Op {
	case stream.OpCommit:
		return append(dst, stream.Item{Kind: stream.ItemMark, Pos: c.Pos}), nil
	case stream.OpInsert, stream.OpUpdate, stream.OpDelete:
	default:
		return dst, nil
	}
	out, err := eval.EvaluateRetrying(ctx, c, dst, s.lookups)
	if err != nil {
		return nil, fmt.Errorf("evaluate rules: %w", err)
	}
	return out, nil
}
