package replication

import (
	"context"
	"fmt"
)

// TableColumn is one column of a table as the catalog has it now.
type TableColumn struct {
	Name string
	// Generated columns are never sent by pgoutput on Postgres 12-17: a
	// rule that reads one while streaming fails on every row (issue 10.2).
	Generated bool
	// Type as format_type writes it ("integer", "double precision",
	// "numeric(12,2)").
	Type string
}

// TableColumns returns the columns of each of tables (schema-qualified), in
// order, for checking the rules against the live schema. Tables that do not
// exist are absent from the map.
func TableColumns(ctx context.Context, q Querier, tables []string) (map[string][]TableColumn, error) {
	rows, err := q.Query(ctx, `
		SELECT n.nspname || '.' || c.relname, a.attname, a.attgenerated <> '', format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname || '.' || c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY 1, a.attnum`, tables)
	if err != nil {
		return nil, fmt.Errorf("read table columns: %w", err)
	}
	out := make(map[string][]TableColumn, len(tables))
	for rows.Next() {
		var table string
		var col TableColumn
		if err := rows.Scan(&table, &col.Name, &col.Generated, &col.Type); err != nil {
			return nil, fmt.Errorf("read table columns: %w", err)
		}
		out[table] = append(out[table], col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read table columns: %w", err)
	}
	return out, nil
}

// GeneratedColumns keeps, of each table's columns, the generated ones;
// tables without any are left out.
func GeneratedColumns(cols map[string][]TableColumn) map[string][]string {
	out := map[string][]string{}
	for t, cs := range cols {
		for _, c := range cs {
			if c.Generated {
				out[t] = append(out[t], c.Name)
			}
		}
	}
	return out
}
