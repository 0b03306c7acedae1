package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
)

// ensure creates the publication and the slot when missing.
func ensure(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	created, sql, err := replication.EnsurePublication(ctx, conn.Conn(), cfg.Source.Config)
	if err != nil {
		return err
	}
	if created {
		log.Info("publication created or extended", "publication", cfg.Source.Publication, "sql", sql)
	}
	slotCreated, _, err := replication.EnsureSlot(ctx, cfg.Source.Config)
	if err != nil {
		return err
	}
	if slotCreated {
		log.Info("replication slot created", "slot", cfg.Source.Slot)
	}
	return nil
}

// LiveColumns returns the columns of each table as the database has them
// now, for checking the rules against the live schema. Tables that do not
// exist are absent from the map.
func LiveColumns(ctx context.Context, conn *pgx.Conn, tables []string) (map[string][]string, error) {
	out := make(map[string][]string, len(tables))
	rows, err := conn.Query(ctx, `
		SELECT n.nspname || '.' || c.relname, a.attname
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname || '.' || c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY 1, a.attnum`, tables)
	if err != nil {
		return nil, fmt.Errorf("read table columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, fmt.Errorf("read table columns: %w", err)
		}
		out[table] = append(out[table], col)
	}
	return out, rows.Err()
}

// quoteQualified quotes "schema.table" as an SQL identifier pair.
func quoteQualified(t string) string {
	schema, table, _ := strings.Cut(t, ".")
	return pgx.Identifier{schema, table}.Sanitize()
}
