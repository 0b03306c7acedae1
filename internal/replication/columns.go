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
	// "numeric(12,2)"); for a domain, its base type's (through domains over
	// domains), which is what the column's values decode as (BaseTypes).
	Type string
}

// TableColumns returns the columns of each of tables (schema-qualified), in
// order, for checking the rules against the live schema. Tables that do not
// exist are absent from the map.
func TableColumns(ctx context.Context, q Querier, tables []string) (map[string][]TableColumn, error) {
	rows, err := q.Query(ctx, `
		SELECT n.nspname || '.' || c.relname, a.attname, a.attgenerated <> '', format_type(b.typ, b.mod)
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL (
			WITH RECURSIVE chain(typ, mod) AS (
				SELECT a.atttypid, a.atttypmod
				UNION ALL
				SELECT t.typbasetype, t.typtypmod FROM chain JOIN pg_type t ON t.oid = chain.typ AND t.typtype = 'd')
			SELECT chain.typ, chain.mod FROM chain JOIN pg_type t ON t.oid = chain.typ AND t.typtype <> 'd') b
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
