package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Problem is one reason the syncer cannot run against a database, with what
// the operator should do about it.
type Problem struct {
	What string
	Fix  string
	SQL  string // what an admin runs, when SQL fixes it
}

func (p Problem) String() string { return p.What + ": " + p.Fix }

// Preflight checks the database conn points at and returns every problem it
// finds at once: wal_level, the REPLICATION privilege, each table's existence
// and SELECT privilege, and a free replication slot. It returns nil when the
// syncer can run. A failing query is itself reported as a problem.
func Preflight(ctx context.Context, conn *pgx.Conn, cfg Config) []Problem {
	var probs []Problem
	for _, check := range []func(context.Context, *pgx.Conn, Config) ([]Problem, error){
		checkWALLevel, checkReplicationRole, checkTables, checkSlot,
	} {
		p, err := check(ctx, conn, cfg)
		if err != nil {
			p = append(p, Problem{What: fmt.Sprintf("preflight query failed: %v", err), Fix: "check the connection and the role's access to pg_catalog"})
		}
		probs = append(probs, p...)
	}
	return probs
}

func checkWALLevel(ctx context.Context, conn *pgx.Conn, _ Config) ([]Problem, error) {
	var level string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return nil, fmt.Errorf("show wal_level: %w", err)
	}
	if level == "logical" {
		return nil, nil
	}
	return []Problem{{
		What: fmt.Sprintf("wal_level is %q; logical replication needs \"logical\"", level),
		Fix:  "run ALTER SYSTEM SET wal_level = logical; as a superuser (or set it in postgresql.conf / your provider's parameter group) and restart Postgres",
	}}, nil
}

func checkReplicationRole(ctx context.Context, conn *pgx.Conn, _ Config) ([]Problem, error) {
	var role string
	var ok bool
	err := conn.QueryRow(ctx, `SELECT current_user, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&role, &ok)
	if err != nil {
		return nil, fmt.Errorf("read role: %w", err)
	}
	if ok {
		return nil, nil
	}
	return []Problem{{
		What: fmt.Sprintf("role %q lacks the REPLICATION privilege (rolreplication), needed to create and read a replication slot", role),
		Fix:  fmt.Sprintf("run ALTER ROLE %s WITH REPLICATION; as a superuser (on RDS/Aurora: GRANT rds_replication TO %s;)", pgx.Identifier{role}.Sanitize(), pgx.Identifier{role}.Sanitize()),
	}}, nil
}

// checkTables reports, for each table, a schema the role has no USAGE on
// (once per schema), a table that does not exist and a table it cannot
// SELECT. It reads the catalog by name and oid, which needs no privilege,
// so a missing USAGE is named instead of failing the query.
func checkTables(ctx context.Context, conn *pgx.Conn, cfg Config) ([]Problem, error) {
	var probs []Problem
	noUsage := map[string]bool{}
	for _, t := range cfg.Tables {
		schema, name, err := SplitTable(t)
		if err != nil {
			probs = append(probs, Problem{What: err.Error(), Fix: "name tables as schema.table"})
			continue
		}
		var exists, usage, canSelect bool
		var role string
		err = conn.QueryRow(ctx, `SELECT c.oid IS NOT NULL, COALESCE(has_schema_privilege(n.oid, 'USAGE'), false),
			COALESCE(has_table_privilege(c.oid, 'SELECT'), false), current_user
			FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1
			LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $2`, schema, name).Scan(&exists, &usage, &canSelect, &role)
		if err != nil {
			return probs, fmt.Errorf("check table %s: %w", t, err)
		}
		if !exists {
			probs = append(probs, Problem{What: fmt.Sprintf("table %s does not exist", t), Fix: "create it, or fix the table name in the rules"})
			continue
		}
		if !usage && !noUsage[schema] {
			noUsage[schema] = true
			grant := fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", quoteIdent(schema), quoteIdent(role))
			probs = append(probs, Problem{What: fmt.Sprintf("no USAGE on schema %s: %s", schema, grant),
				Fix: "run it as the schema's owner or a superuser: without USAGE the role cannot see the tables in it", SQL: grant + ";"})
		}
		if !canSelect {
			sql := fmt.Sprintf("GRANT SELECT ON %s TO %s;", ReadableTable(t), quoteIdent(role))
			probs = append(probs, Problem{What: fmt.Sprintf("the current role lacks the SELECT privilege on table %s", t), Fix: "run " + sql, SQL: sql})
		}
	}
	return probs, nil
}

func checkSlot(ctx context.Context, conn *pgx.Conn, cfg Config) ([]Problem, error) {
	slot, err := ReadSlot(ctx, conn, cfg.Slot)
	if err != nil {
		return nil, fmt.Errorf("check slots: %w", err)
	}
	var used, max int
	var db string
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_replication_slots), current_setting('max_replication_slots')::int,
		current_database()`).Scan(&used, &max, &db)
	if err != nil {
		return nil, fmt.Errorf("check slots: %w", err)
	}
	switch {
	case slot == nil && used >= max:
		return []Problem{{
			What: fmt.Sprintf("no free replication slot: all %d (max_replication_slots) are in use and slot %q does not exist", max, cfg.Slot),
			Fix:  "drop an unused slot (SELECT pg_drop_replication_slot(name)) or raise max_replication_slots and restart Postgres",
		}}, nil
	case slot != nil && (slot.Plugin != "pgoutput" || slot.Database != db):
		return []Problem{{
			What: fmt.Sprintf("replication slot %q exists but is %q, not a pgoutput slot of database %q", cfg.Slot, slot.Plugin+"/"+slot.Database, db),
			Fix:  "choose another slot name (source.slot) or drop that slot",
		}}, nil
	}
	return nil, nil
}
