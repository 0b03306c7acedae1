package backfill

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// txBeginner opens a transaction: a *pgxpool.Pool or a *pgx.Conn.
type txBeginner interface {
	BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error)
}

// CheckWhere has the server plan the rows a backfill with the operator's
// condition would read (EXPLAIN in a read-only transaction, nothing runs),
// so a condition naming a missing column or not valid SQL is refused with
// the server's reason before a request is queued or any progress reset.
func CheckWhere(ctx context.Context, db txBeginner, tableName, where string) error {
	if where == "" {
		return nil
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("check --where: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	t, err := describeTable(ctx, tx, tableName)
	if err != nil {
		return fmt.Errorf("check --where on %s: %w", tableName, err)
	}
	rows, err := tx.Query(ctx, "EXPLAIN SELECT * FROM "+t.quoted+" WHERE ("+where+"\n)")
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		return fmt.Errorf("check --where %q on %s: %w", where, t.name, err)
	}
	return nil
}
