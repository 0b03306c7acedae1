package backfill

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pgbento/cdc/internal/stream"
)

// WatermarkPrefix is the prefix of the in-stream backfill's watermark
// messages (pg_logical_emit_message). Their content is a JSON mark.
const WatermarkPrefix = "cdc_backfill"

// mark is a watermark's content: the chunk it opens (low) or closes (high).
type mark struct {
	Chunk string `json:"chunk"`
	High  bool   `json:"high"`
}

// EvalFunc turns one change into the items the rules make of it (the
// syncer's evaluator, on its ordered path).
type EvalFunc func(ctx context.Context, c *stream.Change, dst []stream.Item) ([]stream.Item, error)

// Windows is the hand-off between the in-stream driver, which emits a
// chunk's watermarks and reads its rows, and the syncer's evaluation
// goroutine, which sees the stream in order (doc.go, "Inside the stream").
// Observe runs on the evaluation goroutine; Acked on the delivery side's
// ack; the rest on the driver's goroutine.
type Windows struct {
	active atomic.Int32 // windows between their low and high watermark: the fast path skips the lock
	mu     sync.Mutex
	chunks map[string]*window
	acked  stream.Position
	ackCh  chan struct{} // closed and replaced on every ack
}

// window is one chunk between its watermarks.
type window struct {
	table   string
	key     []string
	open    bool            // the low watermark went by
	changed map[string]bool // keys of the table changed since the low watermark
	// whole drops every row of the chunk: a truncate, or a change whose row
	// lacks the chunk's key columns (REPLICA IDENTITY USING INDEX on another
	// index: a delete's old row carries only that index's columns).
	whole bool
	rows  []stream.Row // the chunk, set before the high watermark is emitted
	done  chan chunkResult
}

// chunkResult is what the high watermark made of a chunk: the items went
// to delivery; the chunk is delivered once the ack reaches upTo.
type chunkResult struct {
	upTo    stream.Position
	events  int
	dropped []int // indexes of the rows left out: their key changed between the watermarks
	err     error
}

// NewWindows returns an empty hand-off.
func NewWindows() *Windows {
	return &Windows{chunks: map[string]*window{}, ackCh: make(chan struct{})}
}

// expect registers a chunk before its low watermark is emitted; the high
// watermark's verdict arrives on the returned channel (held by the driver:
// the chunk leaves the map when its high watermark goes by).
func (w *Windows) expect(id, table string, key []string) <-chan chunkResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	done := make(chan chunkResult, 1)
	w.chunks[id] = &window{table: table, key: key, changed: map[string]bool{}, done: done}
	return done
}

// setRows hands over the chunk's rows; the high watermark is emitted after.
func (w *Windows) setRows(id string, rows []stream.Row) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.chunks[id]; c != nil {
		c.rows = rows
	}
}

// forget drops a chunk that will get no high watermark.
func (w *Windows) forget(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.chunks[id]; c != nil && c.open {
		w.active.Add(-1)
	}
	delete(w.chunks, id)
}

// result waits for the high watermark's verdict on a chunk.
func result(ctx context.Context, done <-chan chunkResult) (chunkResult, error) {
	select {
	case r := <-done:
		return r, r.err
	case <-ctx.Done():
		return chunkResult{}, ctx.Err()
	}
}

// Acked records the delivery side's latest acknowledged position.
func (w *Windows) Acked(p stream.Position) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.acked.Less(p) {
		w.acked = p
		close(w.ackCh)
		w.ackCh = make(chan struct{})
	}
}

// waitAcked blocks until the acknowledged position reaches p or ctx ends.
func (w *Windows) waitAcked(ctx context.Context, p stream.Position) error {
	for {
		w.mu.Lock()
		reached, ch := !w.acked.Less(p), w.ackCh
		w.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Observe is called by the evaluation goroutine for every change, in stream
// order, before the change's own items are made. A row change or truncate
// marks its keys in the open windows of its table; a high watermark turns
// its chunk, minus the rows whose key changed since the low watermark, into
// items appended to dst, positioned as the events of the watermark change.
func (w *Windows) Observe(ctx context.Context, c *stream.Change, eval EvalFunc, dst []stream.Item) ([]stream.Item, error) {
	switch c.Op {
	case stream.OpMessage:
		if c.Prefix == WatermarkPrefix {
			return w.watermark(ctx, c, eval, dst)
		}
	case stream.OpInsert, stream.OpUpdate, stream.OpDelete, stream.OpTruncate:
		if w.active.Load() > 0 {
			w.touch(c)
		}
	}
	return dst, nil
}

func (w *Windows) touch(c *stream.Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, win := range w.chunks {
		switch {
		case !win.open:
		case c.Op == stream.OpTruncate && slices.Contains(c.Tables, win.table):
			win.whole = true
		case c.Table == win.table:
			win.mark(c)
		}
	}
}

// mark records the chunk's keys a row change touched: the chunk's key
// columns, read from the change's rows, give the same string as the
// chunk's row whatever the change's replica identity. A row without them
// cannot be matched to the chunk, so every row of it is read again.
func (win *window) mark(c *stream.Change) {
	for _, row := range []stream.Row{c.New, c.Old} {
		switch {
		case row == nil:
		case !hasColumns(row, win.key):
			win.whole = true
		default:
			win.changed[rowKey(win.key, row)] = true
		}
	}
}

func hasColumns(row stream.Row, cols []string) bool {
	for _, k := range cols {
		if _, ok := row[k]; !ok {
			return false
		}
	}
	return true
}

func (w *Windows) watermark(ctx context.Context, c *stream.Change, eval EvalFunc, dst []stream.Item) ([]stream.Item, error) {
	var m mark
	if err := json.Unmarshal(c.Content, &m); err != nil {
		return dst, nil // not one of ours after all; nothing to do
	}
	w.mu.Lock()
	win := w.chunks[m.Chunk]
	if win == nil { // a chunk of an earlier process: its rows died with it
		w.mu.Unlock()
		return dst, nil
	}
	if !m.High {
		if !win.open {
			win.open = true
			w.active.Add(1)
		}
		w.mu.Unlock()
		return dst, nil
	}
	delete(w.chunks, m.Chunk)
	if win.open {
		w.active.Add(-1)
	}
	w.mu.Unlock()
	out, res := closeWindow(ctx, win, c, eval, dst)
	win.done <- res
	return out, res.err
}

// closeWindow evaluates the rows of a chunk that no change touched between
// its watermarks, as OpSnapshot changes at the high watermark's position.
func closeWindow(ctx context.Context, win *window, hw *stream.Change, eval EvalFunc, dst []stream.Item) ([]stream.Item, chunkResult) {
	start := len(dst)
	res := chunkResult{}
	for i, row := range win.rows {
		if win.whole || win.changed[rowKey(win.key, row)] {
			res.dropped = append(res.dropped, i)
			continue
		}
		ch := stream.Change{Pos: hw.Pos, Op: stream.OpSnapshot, Table: win.table, Key: win.key, New: row,
			CommitTime: hw.CommitTime, Xid: hw.Xid}
		ch.Pos.Sub = 0
		var err error
		if dst, err = eval(ctx, &ch, dst); err != nil {
			res.err = fmt.Errorf("evaluate backfill chunk of %s: %w", win.table, err)
			return dst[:start], res
		}
	}
	// The chunk's items are the events of the watermark change: Sub numbers
	// them in order, so the existing resume rules (doc.go of replication)
	// hold for them unchanged.
	for i := start; i < len(dst); i++ {
		renumber(&dst[i], hw.Pos, i-start+1)
		if dst[i].Kind == stream.ItemEvent {
			res.events++
		}
	}
	res.upTo = hw.Pos
	res.upTo.Sub = len(dst) - start
	return dst, res
}

func renumber(it *stream.Item, pos stream.Position, sub int) {
	pos.Sub = sub
	it.Pos = pos
	if it.Event != nil {
		it.Event.Pos = pos
	}
	if it.Failure != nil {
		it.Failure.Pos = pos
	}
}

// rowKey renders a row's key like stream.Change.KeyString, so a chunk's row
// and a change of the same row give the same string.
func rowKey(key []string, row stream.Row) string {
	c := stream.Change{Key: key, New: row}
	return c.KeyString()
}
