package backfill

import (
	"context"
)

// estimateRows is the total shown by the progress display: an exact count
// when a filter is given (the operator chose a subset), otherwise the
// planner's estimate, which costs nothing on a large table. -1: unknown.
func estimateRows(ctx context.Context, q querier, t *table, where string) int64 {
	sql := `SELECT reltuples::int8 FROM pg_class WHERE oid = $1::regclass`
	args := []any{t.quoted}
	if where != "" {
		sql, args = "SELECT count(*) FROM "+t.quoted+" WHERE ("+where+"\n)", nil
	}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return -1
	}
	defer rows.Close()
	n := int64(-1)
	if rows.Next() && rows.Scan(&n) != nil {
		return -1
	}
	if n < 0 {
		return -1 // never analyzed
	}
	return n
}

// EstimateRows is estimateRows for a table by name, for a progress display
// outside the backfill (a request the syncer runs); -1: unknown.
func EstimateRows(ctx context.Context, q querier, table, where string) int64 {
	t, err := describeTable(ctx, q, table)
	if err != nil {
		return -1
	}
	return estimateRows(ctx, q, t, where)
}
