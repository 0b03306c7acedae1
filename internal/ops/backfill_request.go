package ops

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/backfill"
)

// BackfillRequest is what `cdc backfill` asks the syncer to do for one
// table (issue 12: backfills run inside the syncer's stream).
type BackfillRequest struct {
	Table     string
	Where     string
	Restart   bool
	PerMinute *float64 // nil: the syncer's default pace
}

// Queued is a request recorded for the syncer, and whether one runs now.
type Queued struct {
	ID      int64
	Table   string
	Running bool // a syncer runs and will pick it up; false: it runs when one starts
}

// BadWhereError is a --where condition the server cannot plan for its
// table: nothing was queued and no progress reset.
type BadWhereError struct{ Err error }

func (e *BadWhereError) Error() string {
	return e.Err.Error() + " (nothing queued, progress unchanged)"
}
func (e *BadWhereError) Unwrap() error { return e.Err }

// RequestBackfills records one request per table for the syncer, which
// runs them in order inside its stream; without a running syncer they wait
// for the next start (docs/decisions.md). Every --where condition is planned
// first: a bad one queues nothing (BadWhereError).
func RequestBackfills(ctx context.Context, pool *pgxpool.Pool, schema, slot string, reqs []BackfillRequest) ([]Queued, error) {
	running, err := SyncerRunning(ctx, pool, slot)
	if err != nil {
		return nil, err
	}
	for _, r := range reqs {
		if err := backfill.CheckWhere(ctx, pool, r.Table, r.Where); err != nil {
			return nil, &BadWhereError{Err: err}
		}
	}
	store := backfill.NewRequestStore(pool, schema)
	out := make([]Queued, 0, len(reqs))
	for _, r := range reqs {
		id, err := store.Add(ctx, backfill.Request{Table: r.Table, Where: r.Where, Restart: r.Restart,
			PerMinute: r.PerMinute, Origin: backfill.OriginCLI})
		if err != nil {
			return out, err
		}
		out = append(out, Queued{ID: id, Table: r.Table, Running: running})
	}
	return out, nil
}

// WaitBackfill polls request id every poll, calling show with each state,
// until it is over (done or failed) or ctx ends; ending ctx leaves the
// request to the syncer.
func WaitBackfill(ctx context.Context, pool *pgxpool.Pool, schema string, id int64, poll time.Duration,
	show func(backfill.Request)) (backfill.Request, error) {
	store := backfill.NewRequestStore(pool, schema)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		r, err := store.Get(ctx, id)
		if err != nil {
			return r, err
		}
		show(r)
		if r.Over() {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-t.C:
		}
	}
}

// HandReconcile hands `cdc reconcile`'s repair to the running syncer (the
// request mechanism of backfills, kind reconcile) and returns the request's
// id; ok is false when no syncer runs (the caller repairs by itself).
func HandReconcile(ctx context.Context, pool *pgxpool.Pool, schema, slot string, since time.Time, table string) (id int64, ok bool, err error) {
	running, err := SyncerRunning(ctx, pool, slot)
	if err != nil || !running {
		return 0, false, err
	}
	r := backfill.Request{Kind: backfill.KindReconcile, Table: table, Origin: backfill.OriginCLI}
	if !since.IsZero() {
		r.Since = &since
	}
	id, err = backfill.NewRequestStore(pool, schema).Add(ctx, r)
	return id, err == nil, err
}
