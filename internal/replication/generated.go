package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// GeneratedColumns returns the generated columns of each of tables
// (schema-qualified), which pgoutput on Postgres 12-17 never sends: a rule
// that reads one while streaming fails on every row (issue 10.2). Tables
// without any are absent from the map.
func GeneratedColumns(ctx context.Context, conn *pgx.Conn, tables []string) (map[string][]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT n.nspname || '.' || c.relname, a.attname
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname || '.' || c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
		  AND a.attgenerated <> ''
		ORDER BY 1, a.attnum`, tables)
	if err != nil {
		return nil, fmt.Errorf("read generated columns: %w", err)
	}
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, fmt.Errorf("read generated columns: %w", err)
		}
		out[table] = append(out[table], col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read generated columns: %w", err)
	}
	return out, nil
}
