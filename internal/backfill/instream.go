package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"
)

// StreamOptions configure the in-stream driver (a running syncer's).
type StreamOptions struct {
	Pool      *pgxpool.Pool
	Schema    string
	Windows   *Windows
	ChunkSize int           // 0: DefaultChunkSize
	Poll      time.Duration // how often to look for new requests; 0: 2s
	// Pending is how many items the syncer's sender holds; QueueSize its
	// capacity. A chunk starts only while the queue is at most half full,
	// so live events go first.
	Pending   func() int
	QueueSize int
	BatchSize int // events per request, to pace chunks by requests a minute
	// PerMinute is the default pace of a request that names none (half of
	// bento.requests_per_minute); <= 0 is unlimited.
	PerMinute float64
	Logger    *slog.Logger
	Hooks     Hooks
	// SaveTimeout bounds each write that must happen even as the syncer
	// stops (a chunk's progress, the request's end), so a hung database
	// cannot hold the shutdown: the syncer passes its shutdown_timeout.
	// 0 or more than saveTimeout: saveTimeout.
	SaveTimeout time.Duration
	// Reconcile runs a reconcile request (kind reconcile) with the syncer's
	// pacing and returns its summary; nil fails such requests.
	Reconcile func(ctx context.Context, r Request) (summary string, err error)
}

// Hooks let a test act at exact points of a chunk (writing rows between
// its watermarks); nil hooks do nothing.
type Hooks struct {
	AfterLow   func(ctx context.Context, table string, chunk int64) // low watermark emitted, chunk not read yet
	BeforeHigh func(ctx context.Context, table string, chunk int64) // chunk read, high watermark not emitted yet
}

// Driver executes backfill requests inside a running syncer's stream.
type Driver struct {
	o     StreamOptions
	store *RequestStore
	log   *slog.Logger
	epoch int64 // distinguishes this process's chunks from an earlier one's
}

// NewDriver does no I/O.
func NewDriver(o StreamOptions) *Driver {
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1
	}
	if o.SaveTimeout <= 0 || o.SaveTimeout > saveTimeout {
		o.SaveTimeout = saveTimeout
	}
	return &Driver{o: o, store: NewRequestStore(o.Pool, o.Schema), log: o.Logger.With("component", "backfill"),
		epoch: time.Now().UnixNano()}
}

// Run executes requests, oldest first, until ctx ends. A request that
// fails is recorded as failed with its reason (and an ERROR line); the
// stream goes on. A request interrupted by ctx stays running and resumes
// from its table's saved progress when a syncer starts again.
func (d *Driver) Run(ctx context.Context) error {
	failing := false // log a failing lookup once per outage, not every poll
	for {
		r, restart, ok, err := d.store.claim(ctx)
		if err != nil && ctx.Err() == nil && !failing {
			d.log.Warn("looking for backfill requests failed; retrying", "error", err)
		}
		failing = err != nil
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(d.o.Poll):
			}
			continue
		}
		d.execute(ctx, &r, restart)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// execute runs one request to its end and records how it ended.
func (d *Driver) execute(ctx context.Context, r *Request, restart bool) {
	d.log.Info("request running in the syncer", "id", r.ID, "kind", r.Kind, "table", r.Table, "filtered", r.Where != "")
	var reason string
	var err error
	switch {
	case r.Kind != KindReconcile:
		reason, err = d.runRequest(ctx, r, restart)
	case d.o.Reconcile == nil:
		err = errors.New("this syncer cannot run reconcile requests")
	default:
		reason, err = d.o.Reconcile(ctx, *r)
	}
	if ctx.Err() != nil {
		d.log.Info("backfill request interrupted; it resumes when the syncer starts again", "id", r.ID, "rows_done", r.RowsDone)
		return
	}
	state := StateDone
	if err != nil {
		state, reason = StateFailed, err.Error()
		d.log.Error("backfill request failed", "id", r.ID, "table", r.Table, "error", err)
	} else {
		d.log.Info("backfill request done", "id", r.ID, "table", r.Table, "rows", r.RowsDone,
			"events", r.Events, "left_to_stream", r.Dropped)
	}
	saveCtx, cancel := d.saving(ctx)
	defer cancel()
	if err := d.store.finish(saveCtx, r, state, reason); err != nil {
		d.log.Error("recording the end of a backfill request failed", "id", r.ID, "error", err)
	}
}

// saving is the context of a write that must happen even if ctx just
// ended, bounded by SaveTimeout.
func (d *Driver) saving(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d.o.SaveTimeout)
}

// runRequest sends the table's chunks after its saved progress; reason
// says why nothing was sent, if so.
func (d *Driver) runRequest(ctx context.Context, r *Request, restart bool) (string, error) {
	var version int
	if err := d.o.Pool.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return "", fmt.Errorf("read server version: %w", err)
	}
	if version < 140000 {
		return "", errors.New("a backfill inside the stream needs Postgres 14 or newer (logical messages in pgoutput)")
	}
	t, err := describeTable(ctx, d.o.Pool, r.Table)
	if err != nil {
		return "", err
	}
	var progress *progressStore
	var st state
	if r.Where == "" {
		progress = newProgressStore(d.o.Pool, d.o.Schema)
		if st, err = progress.resume(ctx, t.name, "", restart); err != nil {
			return "", err
		}
		if st.Done {
			r.RowsDone = st.RowsDone
			return "already backfilled; use --restart to send it again", nil
		}
	} else {
		// A --where backfill is a targeted re-send (docs/decisions.md): it
		// always runs, from its first matching row, and never reads or
		// writes the table's full-backfill progress, which says whether
		// every row was sent. Its counts are the request's own.
		r.RowsDone, r.Events, r.Dropped = 0, 0, 0
	}
	src, err := openSource(ctx, d.o.Pool, t, "", r.Where, d.o.ChunkSize)
	if err != nil {
		return "", err
	}
	defer src.close(ctx)
	c := &chunker{d: d, r: r, t: t, src: src, progress: progress, st: st, limiter: d.limiter(r)}
	return "", c.run(ctx)
}

// limiter paces chunks by the request's requests a minute.
func (d *Driver) limiter(r *Request) *rate.Limiter {
	per := d.o.PerMinute
	if r.PerMinute != nil {
		per = *r.PerMinute
	}
	if per <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(per/60), 1)
}

// chunker is one request's chunk loop.
type chunker struct {
	d        *Driver
	r        *Request
	t        *table
	src      *source
	progress *progressStore // the table's full-backfill progress; nil for a --where backfill
	st       state
	limiter  *rate.Limiter
}

func (c *chunker) run(ctx context.Context) error {
	for seq := int64(1); ; seq++ {
		if err := c.d.waitForRoom(ctx); err != nil {
			return err
		}
		more, events, err := c.chunk(ctx, seq)
		if err != nil || !more {
			if err == nil && c.progress != nil {
				err = c.progress.finish(ctx, c.t.name)
			}
			return err
		}
		if err := c.pace(ctx, events); err != nil {
			return err
		}
	}
}

// maxRereads bounds how often a chunk's rows that changed between its
// watermarks are read again in a window of their own; a row still changing
// after that is left to the stream (counted, logged).
const maxRereads = 5

// chunk runs one chunk between its watermarks (doc.go), then reads the rows
// that changed meanwhile again between watermarks of their own, and returns
// once everything is acknowledged and the progress saved; more is false
// when the table had no rows left.
func (c *chunker) chunk(ctx context.Context, seq int64) (more bool, events int, err error) {
	rows, res, err := c.window(ctx, fmt.Sprint(seq), seq, func() (chunk, error) { return c.src.next(ctx, c.st.LastKey) })
	if err != nil || len(rows.rows) == 0 {
		return false, 0, err
	}
	events = res.events
	left := pick(rows.keys, res.dropped)
	for try := 1; len(left) > 0 && try <= maxRereads; try++ {
		again, res, err := c.window(ctx, fmt.Sprintf("%d.%d", seq, try), seq, func() (chunk, error) { return c.src.byKeys(ctx, left) })
		if err != nil {
			return false, events, err
		}
		events += res.events
		left = pick(again.keys, res.dropped)
	}
	if len(left) > 0 {
		c.d.log.Warn("rows kept changing while the backfill read them; their stream events stand for them",
			"table", c.t.name, "rows", len(left))
	}
	return true, events, c.saved(ctx, rows, events, len(left))
}

// window reads rows between a low and a high watermark and hands them to
// the stream, which drops those changed in between (doc.go); it returns
// what was read and, once the items are acknowledged, what became of it.
func (c *chunker) window(ctx context.Context, name string, seq int64, read func() (chunk, error)) (chunk, chunkResult, error) {
	hooks := c.d.o.Hooks
	if name != fmt.Sprint(seq) {
		hooks = Hooks{} // a test's writes race the chunk's first read only
	}
	w := c.d.o.Windows
	id := fmt.Sprintf("%d/%d/%s", c.d.epoch, c.r.ID, name)
	done := w.expect(id, c.t.name, c.t.key)
	defer w.forget(id)
	if err := c.d.emit(ctx, id, false); err != nil {
		return chunk{}, chunkResult{}, err
	}
	if err := c.d.waitVisible(ctx); err != nil {
		return chunk{}, chunkResult{}, err
	}
	hook(ctx, hooks.AfterLow, c.t.name, seq)
	rows, err := read()
	if err != nil || len(rows.rows) == 0 {
		return rows, chunkResult{}, err
	}
	hook(ctx, hooks.BeforeHigh, c.t.name, seq)
	w.setRows(id, rows.rows)
	if err := c.d.emit(ctx, id, true); err != nil {
		return chunk{}, chunkResult{}, err
	}
	res, err := result(ctx, done)
	if err == nil {
		err = w.waitAcked(ctx, res.upTo)
	}
	return rows, res, err
}

func pick(keys [][]string, idx []int) [][]string {
	out := make([][]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, keys[i])
	}
	return out
}

// saved records a delivered chunk: the table's progress, then the request's
// counts. Delivered is delivered, so it is saved even if ctx just ended.
func (c *chunker) saved(ctx context.Context, rows chunk, events, left int) error {
	ctx, cancel := c.d.saving(ctx)
	defer cancel()
	c.st.LastKey = rows.last
	c.st.RowsDone += int64(len(rows.rows))
	if c.progress != nil {
		if err := c.progress.save(ctx, c.t.name, rows.last, c.st.RowsDone); err != nil {
			return err
		}
	}
	c.r.RowsDone, c.r.Events, c.r.Dropped = c.st.RowsDone, c.r.Events+int64(events), c.r.Dropped+int64(left)
	return c.d.store.progress(ctx, c.r)
}

// pace waits for the requests a chunk's events take at the request's rate.
func (c *chunker) pace(ctx context.Context, events int) error {
	n := int(math.Ceil(float64(events) / float64(c.d.o.BatchSize)))
	for range n {
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

func hook(ctx context.Context, f func(context.Context, string, int64), table string, seq int64) {
	if f != nil {
		f(ctx, table, seq)
	}
}

// waitForRoom holds the next chunk while the syncer's queue is more than
// half full: live changes go first.
func (d *Driver) waitForRoom(ctx context.Context) error {
	if d.o.Pending == nil || d.o.QueueSize <= 0 {
		return ctx.Err()
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for d.o.Pending() > d.o.QueueSize/2 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// emit writes a watermark into the WAL as a transactional logical message
// in a transaction of its own: the stream delivers it at its commit, in
// commit order with every other transaction, with a position of its own.
func (d *Driver) emit(ctx context.Context, id string, high bool) error {
	content, err := json.Marshal(mark{Chunk: id, High: high})
	if err != nil {
		return err
	}
	if _, err := d.o.Pool.Exec(ctx, `SELECT pg_logical_emit_message(true, $1, $2::text)`, WatermarkPrefix, string(content)); err != nil {
		return fmt.Errorf("emit backfill watermark: %w", err)
	}
	return nil
}

// waitVisible waits until every transaction whose commit is already in
// the WAL is visible to new snapshots (doc.go, "Inside the stream"): a
// commit record is written before the transaction leaves the proc array,
// so without this wait the chunk could miss a commit that the stream
// delivers before the low watermark.
func (d *Driver) waitVisible(ctx context.Context) error {
	var snap string
	if err := d.o.Pool.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snap); err != nil {
		return fmt.Errorf("wait for committed transactions: %w", err)
	}
	const q = `SELECT count(*) FROM pg_snapshot_xip($1::pg_snapshot) x
		WHERE pg_xact_status(x) = 'committed' AND NOT pg_visible_in_snapshot(x, pg_current_snapshot())`
	logged := false
	for {
		var n int
		if err := d.o.Pool.QueryRow(ctx, q, snap).Scan(&n); err != nil {
			return fmt.Errorf("wait for committed transactions: %w", err)
		}
		if n == 0 {
			return nil
		}
		if !logged {
			d.log.Warn("backfill waits for committed transactions to become visible (synchronous replication?)", "count", n)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
