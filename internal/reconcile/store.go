package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// saveRun records r in <schema>.reconcile_runs.
func saveRun(ctx context.Context, pool *pgxpool.Pool, schema string, r *Report) error {
	_, err := pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "reconcile_runs"}.Sanitize()+`
		(finished_at, dry_run, customers, missing, differing, unknown_keys, drift_cents, repaired)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.Finished, r.DryRun, len(r.Customers), r.Counts.Missing, r.Counts.Differing+r.Counts.Currency,
		r.Counts.Unknown, r.Counts.DriftCents, r.Repaired)
	if err != nil {
		return fmt.Errorf("record reconcile run: %w", err)
	}
	return nil
}

// LastRun is the newest stored reconcile run.
type LastRun struct {
	Finished   time.Time `json:"finished_at"`
	DryRun     bool      `json:"dry_run"`
	Customers  int       `json:"customers"`
	Missing    int       `json:"missing"`
	Differing  int       `json:"differing"`
	Unknown    int       `json:"unknown_keys"`
	DriftCents int64     `json:"drift_cents"`
	Repaired   int       `json:"repaired"`
}

// Last returns the newest run, or nil when none ran.
func Last(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, schema string) (*LastRun, error) {
	var l LastRun
	err := q.QueryRow(ctx, `SELECT finished_at, dry_run, customers, missing, differing, unknown_keys, drift_cents, repaired
		FROM `+pgx.Identifier{schema, "reconcile_runs"}.Sanitize()+` ORDER BY id DESC LIMIT 1`).
		Scan(&l.Finished, &l.DryRun, &l.Customers, &l.Missing, &l.Differing, &l.Unknown, &l.DriftCents, &l.Repaired)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read last reconcile run: %w", err)
	}
	return &l, nil
}
