package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Request states in <schema>.backfill_requests.
const (
	StateQueued  = "queued"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Request origins: an operator's `cdc backfill`, or a resync after a lost
// slot (issue 12).
const (
	OriginCLI    = "cli"
	OriginResync = "resync"
)

// Request kinds: a backfill, or a reconcile repair (issue 13) handed to the
// running syncer, which runs it with its own pacing.
const (
	KindBackfill  = "backfill"
	KindReconcile = "reconcile"
)

// Request is one backfill for the running syncer to execute inside its
// stream (see doc.go, "Inside the stream"), or a reconcile it runs for
// `cdc reconcile`.
type Request struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Since     *time.Time `json:"since,omitempty"` // reconcile: purchases dated since`
	Table     string     `json:"table"`
	Where     string     `json:"where,omitempty"`
	Restart   bool       `json:"restart,omitempty"`
	PerMinute *float64   `json:"per_minute,omitempty"` // requests a minute to Bento; nil: the syncer's default
	Origin    string     `json:"origin"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	RowsDone  int64      `json:"rows_done"`
	Dropped   int64      `json:"rows_left_to_stream"` // their key changed between the chunk's watermarks
	Events    int64      `json:"events"`
	Requested time.Time  `json:"requested_at"`
	Started   *time.Time `json:"started_at,omitempty"`
	Finished  *time.Time `json:"finished_at,omitempty"`
}

// Over reports whether the request ended (done or failed).
func (r Request) Over() bool { return r.State == StateDone || r.State == StateFailed }

// RequestStore reads and writes <schema>.backfill_requests.
type RequestStore struct {
	pool  *pgxpool.Pool
	table string
}

// NewRequestStore does no I/O.
func NewRequestStore(pool *pgxpool.Pool, schema string) *RequestStore {
	return &RequestStore{pool: pool, table: pgx.Identifier{schema, "backfill_requests"}.Sanitize()}
}

const requestColumns = `id, kind, since, table_name, where_sql, restart, per_minute, origin, state, reason, rows_done,
	rows_dropped, events, requested_at, started_at, finished_at`

func scanRequest(row pgx.CollectableRow) (Request, error) {
	var r Request
	err := row.Scan(&r.ID, &r.Kind, &r.Since, &r.Table, &r.Where, &r.Restart, &r.PerMinute, &r.Origin, &r.State, &r.Reason,
		&r.RowsDone, &r.Dropped, &r.Events, &r.Requested, &r.Started, &r.Finished)
	return r, err
}

// Add queues a request and returns its id.
func (s *RequestStore) Add(ctx context.Context, r Request) (int64, error) {
	if r.Origin == "" {
		r.Origin = OriginCLI
	}
	if r.Kind == "" {
		r.Kind = KindBackfill
	}
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO `+s.table+` (table_name, where_sql, restart, per_minute, origin, kind, since)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, r.Table, r.Where, r.Restart, r.PerMinute, r.Origin, r.Kind, r.Since).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue backfill of %s: %w", r.Table, err)
	}
	return id, nil
}

// Get returns one request.
func (s *RequestStore) Get(ctx context.Context, id int64) (Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+requestColumns+` FROM `+s.table+` WHERE id = $1`, id)
	if err != nil {
		return Request{}, fmt.Errorf("read backfill request %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRequest)
	if err != nil {
		return Request{}, fmt.Errorf("read backfill request %d: %w", id, err)
	}
	return r, nil
}

// Open lists the running and queued requests, oldest first (the order the
// syncer runs them in).
func (s *RequestStore) Open(ctx context.Context) ([]Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+requestColumns+` FROM `+s.table+`
		WHERE state IN ('queued', 'running') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list backfill requests: %w", err)
	}
	reqs, err := pgx.CollectRows(rows, scanRequest)
	if err != nil {
		return nil, fmt.Errorf("list backfill requests: %w", err)
	}
	return reqs, nil
}

// claim marks the oldest open request running and returns it; ok is false
// when none is open. A request left running by a syncer that stopped is
// claimed again first and resumes from its table's saved progress; its
// restart flag is cleared on the first claim, so a resumed request never
// starts over.
func (s *RequestStore) claim(ctx context.Context) (r Request, restart, ok bool, err error) {
	rows, err := s.pool.Query(ctx, `UPDATE `+s.table+` u SET state = 'running', restart = false,
			started_at = coalesce(u.started_at, now())
		FROM (SELECT id, restart FROM `+s.table+` WHERE state IN ('queued', 'running') ORDER BY id LIMIT 1) o
		WHERE u.id = o.id
		RETURNING u.id, u.kind, u.since, u.table_name, u.where_sql, o.restart, u.per_minute, u.origin, u.state, u.reason, u.rows_done,
			u.rows_dropped, u.events, u.requested_at, u.started_at, u.finished_at`)
	if err != nil {
		return Request{}, false, false, fmt.Errorf("claim backfill request: %w", err)
	}
	r, err = pgx.CollectExactlyOneRow(rows, scanRequest)
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, false, false, nil
	}
	if err != nil {
		return Request{}, false, false, fmt.Errorf("claim backfill request: %w", err)
	}
	return r, r.Restart, true, nil
}

// progress records a request's counts after a delivered chunk.
func (s *RequestStore) progress(ctx context.Context, r *Request) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET rows_done = $2, rows_dropped = $3, events = $4 WHERE id = $1`,
		r.ID, r.RowsDone, r.Dropped, r.Events)
	if err != nil {
		return fmt.Errorf("save backfill request %d: %w", r.ID, err)
	}
	return nil
}

// finish ends a request as done or failed with reason.
func (s *RequestStore) finish(ctx context.Context, r *Request, state, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET state = $2, reason = $3, rows_done = $4, rows_dropped = $5,
		events = $6, finished_at = now() WHERE id = $1`, r.ID, state, reason, r.RowsDone, r.Dropped, r.Events)
	if err != nil {
		return fmt.Errorf("finish backfill request %d: %w", r.ID, err)
	}
	return nil
}
