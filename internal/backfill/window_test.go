package backfill

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/stream"
)

// TestRequestPace: --rate is the request's pace, else the syncer's default
// (half of requests_per_minute); 0 or less is unlimited.
func TestRequestPace(t *testing.T) {
	t.Parallel()
	d := NewDriver(StreamOptions{PerMinute: 30})
	per := 120.0
	require.Equal(t, rate.Limit(2), d.limiter(&Request{PerMinute: &per}).Limit())
	require.Equal(t, rate.Limit(0.5), d.limiter(&Request{}).Limit())
	zero := 0.0
	require.Equal(t, rate.Inf, d.limiter(&Request{PerMinute: &zero}).Limit())
}

// TestWindowDropsRowsChangedBetweenWatermarks: the high watermark turns the
// chunk into items at its own position (Sub 1..n), minus the rows whose key
// an insert, update (old or new key) or delete touched after the low
// watermark; a change before the low watermark does not count, and a
// truncate or a change without the key columns drops the whole chunk.
func TestWindowDropsRowsChangedBetweenWatermarks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := []string{"id"}
	rows := []stream.Row{{"id": int64(1)}, {"id": int64(2)}, {"id": int64(3)}, {"id": int64(4)}}
	eval := func(_ context.Context, c *stream.Change, dst []stream.Item) ([]stream.Item, error) {
		ev := &stream.Event{Pos: c.Pos, Key: c.KeyString()}
		return append(dst, stream.Item{Kind: stream.ItemEvent, Pos: c.Pos, Event: ev}), nil
	}
	wm := func(id string, high bool, pos stream.Position) *stream.Change {
		content, err := json.Marshal(mark{Chunk: id, High: high})
		require.NoError(t, err)
		return &stream.Change{Op: stream.OpMessage, Prefix: WatermarkPrefix, Content: content, Pos: pos}
	}
	row := func(op stream.Op, id int64) *stream.Change {
		return &stream.Change{Op: op, Table: "public.t", Key: key, New: stream.Row{"id": id}}
	}
	w := NewWindows()
	done := w.expect("c1", "public.t", key)
	observe := func(c *stream.Change) []stream.Item {
		items, err := w.Observe(ctx, c, eval, nil)
		require.NoError(t, err)
		return items
	}
	observe(row(stream.OpUpdate, 1)) // before the low watermark: not counted
	observe(wm("c1", false, stream.Position{CommitLSN: 10}))
	observe(row(stream.OpUpdate, 2))
	observe(&stream.Change{Op: stream.OpDelete, Table: "public.t", Key: key, Old: stream.Row{"id": int64(4)}})
	observe(&stream.Change{Op: stream.OpUpdate, Table: "public.other", Key: key, New: stream.Row{"id": int64(3)}})
	w.setRows("c1", rows)
	hw := stream.Position{CommitLSN: 20}
	items := observe(wm("c1", true, hw))
	require.Len(t, items, 2)
	require.Equal(t, "id=1", items[0].Event.Key)
	require.Equal(t, "id=3", items[1].Event.Key)
	require.Equal(t, stream.Position{CommitLSN: 20, Sub: 1}, items[0].Pos)
	require.Equal(t, stream.Position{CommitLSN: 20, Sub: 2}, items[1].Pos)
	res, err := result(ctx, done)
	require.NoError(t, err)
	require.Equal(t, []int{1, 3}, res.dropped, "rows 2 and 4 changed between the watermarks")
	require.Equal(t, 2, res.events)
	require.Equal(t, stream.Position{CommitLSN: 20, Sub: 2}, res.upTo, "the chunk is delivered once its last item is")

	w.expect("c2", "public.t", key)
	observe(wm("c2", false, stream.Position{CommitLSN: 30}))
	observe(&stream.Change{Op: stream.OpTruncate, Tables: []string{"public.t"}})
	w.setRows("c2", rows)
	require.Empty(t, observe(wm("c2", true, stream.Position{CommitLSN: 40})))
	require.Empty(t, observe(wm("unknown", true, stream.Position{CommitLSN: 50})), "a chunk of an earlier process")

	// A delete under REPLICA IDENTITY USING INDEX on another index: the old
	// row has no id, so no row can be matched and the whole chunk is dropped.
	done = w.expect("c3", "public.t", key)
	observe(wm("c3", false, stream.Position{CommitLSN: 60}))
	observe(&stream.Change{Op: stream.OpDelete, Table: "public.t", Key: []string{"email"}, OldIsKey: true,
		Old: stream.Row{"email": "a@example.com"}})
	w.setRows("c3", rows)
	require.Empty(t, observe(wm("c3", true, stream.Position{CommitLSN: 70})))
	res, err = result(ctx, done)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2, 3}, res.dropped, "every row is read again")
}
