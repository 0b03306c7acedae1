package replication

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Catalog questions the replication goroutine asks on a normal connection
// (the checkpoint store's pool): the replication connection cannot run
// queries while it streams.

// serverStopping reports whether the server refuses normal connections
// because it is shutting down (SQLSTATE class 57: operator intervention).
// The replication goroutine asks while it waits on a full queue: it is not
// reading the connection then, so it cannot see the walsender asking for
// the confirmation a fast shutdown waits on, and the delivery side may be
// stuck on the same server (lookups, dead letters). Disconnecting lets the
// shutdown finish; the reader resumes after the restart.
func serverStopping(ctx context.Context, pool *pgxpool.Pool) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := pool.Ping(ctx)
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "57")
}

// primaryKey returns the primary key columns of a table, in key order, or
// nil when it has none or the catalog cannot be read (the caller then keeps
// the replica identity columns).
func primaryKey(ctx context.Context, pool *pgxpool.Pool, relID uint32) []string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := pool.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = $1::oid AND i.indisprimary
		ORDER BY array_position(i.indkey::int2[], a.attnum)`, relID)
	if err != nil {
		return nil
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil
	}
	return cols
}
