package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The privilege questions check and setup ask, so that both tell a role
// without the tables' ownership or CREATE on the database exactly what an
// admin must run, instead of failing on the first statement (issue 15).
// Every query reads the catalog by oid, so it needs no privilege on the
// schemas it asks about.

// Role is the current role and what it may do in the current database.
type Role struct {
	Name      string
	Database  string
	Superuser bool
	// CreateOnDatabase: the role may create schemas and publications.
	CreateOnDatabase bool
}

// Ident is the role's name quoted for SQL.
func (r Role) Ident() string { return quoteIdent(r.Name) }

// ReadRole reads the current role.
func ReadRole(ctx context.Context, q Querier) (Role, error) {
	var r Role
	err := q.QueryRow(ctx, `SELECT current_user, current_database(), rolsuper,
		has_database_privilege(current_database(), 'CREATE') FROM pg_roles WHERE rolname = current_user`).
		Scan(&r.Name, &r.Database, &r.Superuser, &r.CreateOnDatabase)
	if err != nil {
		return r, fmt.Errorf("read role: %w", err)
	}
	return r, nil
}

// NotOwned returns the tables ("schema.table", in the order given) the
// current role does not own; creating a publication for a table, or adding
// it to one, needs ownership. Tables that do not exist are left out.
func NotOwned(ctx context.Context, q Querier, tables []string) ([]string, error) {
	return tablesWhere(ctx, q, tables, `NOT pg_has_role(c.relowner, 'USAGE')`)
}

// Partitioned returns the tables (in the order given) that are partitioned:
// a publication for them needs publish_via_partition_root, so their
// partitions' changes arrive under the name the rules use.
func Partitioned(ctx context.Context, q Querier, tables []string) ([]string, error) {
	return tablesWhere(ctx, q, tables, `c.relkind = 'p'`)
}

// tablesWhere returns the existing tables, in the order given, whose
// pg_class row c matches cond.
func tablesWhere(ctx context.Context, q Querier, tables []string, cond string) ([]string, error) {
	schemas, names, err := splitTables(tables)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
		SELECT t.s || '.' || t.n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(s, n, i)
		JOIN pg_namespace ns ON ns.nspname = t.s
		JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = t.n
		WHERE `+cond+` ORDER BY t.i`, schemas, names)
	if err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}
	return out, nil
}

func splitTables(tables []string) (schemas, names []string, err error) {
	for _, t := range tables {
		s, n, err := SplitTable(t)
		if err != nil {
			return nil, nil, err
		}
		schemas, names = append(schemas, s), append(names, n)
	}
	return schemas, names, nil
}

// SchemaAccess is what the current role may do in a schema.
type SchemaAccess struct {
	Exists bool
	Usage  bool // may use the objects in it
	Create bool // may create tables in it (apply migrations)
	// Lacking is the tables on which the role lacks one of SELECT, INSERT,
	// UPDATE or DELETE and the sequences on which it lacks USAGE.
	Lacking []string
}

// ReadSchemaAccess reads what the current role may do in schema.
func ReadSchemaAccess(ctx context.Context, q Querier, schema string) (SchemaAccess, error) {
	var a SchemaAccess
	err := q.QueryRow(ctx, `SELECT n.oid IS NOT NULL, COALESCE(has_schema_privilege(n.oid, 'USAGE'), false),
		COALESCE(has_schema_privilege(n.oid, 'CREATE'), false)
		FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1`, schema).Scan(&a.Exists, &a.Usage, &a.Create)
	if err != nil || !a.Exists {
		return a, wrapErr("read schema "+schema, err)
	}
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND (
		  (c.relkind = 'r' AND NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
		     AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE')))
		  OR (c.relkind = 'S' AND NOT has_sequence_privilege(c.oid, 'USAGE')))
		ORDER BY 1`, schema)
	if err != nil {
		return a, wrapErr("read schema "+schema, err)
	}
	a.Lacking, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return a, wrapErr("read schema "+schema, err)
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
