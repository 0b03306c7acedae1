package migrations

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Querier is what Inspect needs: a *pgx.Conn or a *pgxpool.Pool.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// State is how far the database has the syncer's schema.
type State struct {
	Exists   bool  // the schema exists
	Readable bool  // the current role may read its version table
	Version  int32 // the applied version; 0 when unknown
	Latest   int32 // the newest version this binary has
}

// Current reports whether the schema is at the newest version, so applying
// runs nothing and needs no privilege.
func (s State) Current() bool { return s.Exists && s.Readable && s.Version >= s.Latest }

// Inspect reads the schema's state from the catalog and its version table,
// without needing any privilege on the schema to find out that it lacks
// them.
func Inspect(ctx context.Context, q Querier, schema string) (State, error) {
	st := State{Latest: Latest()}
	if !ValidSchema(schema) {
		return st, fmt.Errorf("read schema: invalid schema name %q", schema)
	}
	err := q.QueryRow(ctx, `
		SELECT n.oid IS NOT NULL,
		       COALESCE(has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'), false)
		FROM (SELECT 1) one
		LEFT JOIN pg_namespace n ON n.nspname = $1
		LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'schema_version'`, schema).
		Scan(&st.Exists, &st.Readable)
	if err != nil {
		return st, fmt.Errorf("read schema %s: %w", schema, err)
	}
	if !st.Readable {
		return st, nil
	}
	if err := q.QueryRow(ctx, `SELECT version FROM `+schema+`.schema_version`).Scan(&st.Version); err != nil {
		return st, fmt.Errorf("read schema version of %s: %w", schema, err)
	}
	return st, nil
}
