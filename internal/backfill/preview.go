package backfill

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/stream"
)

// Preview evaluates the rules on the first limit rows of opts.Table (all
// rows when limit <= 0; Where and Snapshot apply) and hands each item to
// emit in order. It sends nothing and writes nothing: no progress, no dead
// letters. Rule lookups do run, read-only. It returns the rows read.
func Preview(ctx context.Context, opts Options, limit int64, emit func(stream.Item) error) (int64, error) {
	o := opts.withDefaults()
	if err := o.validate(false); err != nil {
		return 0, fmt.Errorf("preview: %w", err)
	}
	// A lookup that fails check would fail (and be retried) on every row:
	// say so once, before reading anything (issue 15.9).
	if err := o.Rules.CheckLookups(ctx, o.Pool); err != nil {
		return 0, fmt.Errorf("preview: %w", err)
	}
	t, err := describeTable(ctx, o.Pool, o.Table)
	if err != nil {
		return 0, err
	}
	if limit > 0 && int64(o.ChunkSize) > limit {
		o.ChunkSize = int(limit)
	}
	src, err := openSource(ctx, o.Pool, t, o.Snapshot, o.Where, o.ChunkSize)
	if err != nil {
		return 0, err
	}
	defer src.close(ctx)
	eval := newEvaluator(o.Rules, o.Pool, t, o.Logger)
	var rows int64
	var after []string
	for seq := int64(1); limit <= 0 || rows < limit; seq++ {
		c, err := src.next(ctx, after)
		if err != nil || len(c.rows) == 0 {
			return rows, err
		}
		if limit > 0 && rows+int64(len(c.rows)) > limit {
			c.rows = c.rows[:limit-rows]
		}
		items, err := eval.items(ctx, seq, c, o.Now())
		if err != nil {
			return rows, fmt.Errorf("preview %s: %w", t.name, err)
		}
		for _, it := range items {
			if err := emit(it); err != nil {
				return rows, err
			}
		}
		rows += int64(len(c.rows))
		after = c.last
	}
	return rows, nil
}

// previewLine is one JSON line of `cdc preview`.
type previewLine struct {
	Kind   string          `json:"kind"` // "event" or "failure"
	Rule   string          `json:"rule"`
	Table  string          `json:"table"`
	Key    string          `json:"key"`
	Source string          `json:"source,omitempty"`
	Event  json.RawMessage `json:"event,omitempty"`  // exactly what would be sent
	Reason string          `json:"reason,omitempty"` // why the rule failed
}

// WritePreviewLine writes it as one JSON line: an event in its wire form,
// or a rule failure with its reason.
func WritePreviewLine(w io.Writer, it stream.Item) error {
	var l previewLine
	switch it.Kind {
	case stream.ItemEvent:
		ev := it.Event
		l = previewLine{Kind: "event", Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Source: ev.Source}
		body, err := bento.EncodeEvent(ev)
		if err != nil {
			l.Kind, l.Reason = "failure", err.Error()
		}
		l.Event = body
	case stream.ItemFailure:
		f := it.Failure
		l = previewLine{Kind: "failure", Rule: f.Rule, Table: f.Table, Key: f.Key, Reason: f.Reason, Event: f.Event}
	default:
		return nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("write preview: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
