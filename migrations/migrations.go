// Package migrations holds the SQL for the syncer's own schema (checkpoint,
// dead letters, backfill progress, delivery ledger), embedded in the binary, and applies it
// with tern. It owns nothing else: the tables' meaning is documented where
// they are used.
//
// Applying is a no-op without any privilege once the schema is at the
// newest version: Apply reads the applied version first and runs DDL only
// when something is missing, because Postgres refuses CREATE SCHEMA IF NOT
// EXISTS (and tern's CREATE TABLE IF NOT EXISTS) to a role without CREATE
// even when the object exists (issue 15).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/pgbento/cdc/internal/stream"
)

//go:embed *.sql
var files embed.FS

// ValidSchema reports whether name is usable as the syncer's schema: a plain
// lower-case identifier, so it never needs quoting in SQL.
func ValidSchema(name string) bool { return stream.IsPlainIdentifier(name) }

// Latest is the newest migration version (the number of migrations).
func Latest() int32 {
	names, _ := fs.Glob(files, "*.sql")
	return int32(len(names))
}

// Apply creates schema if missing and brings it to the newest version. It is
// safe to run concurrently from several processes (tern takes an advisory
// lock) and on every start; once the schema is current it runs no DDL.
func Apply(ctx context.Context, conn *pgx.Conn, schema string) error {
	_, err := ApplyReport(ctx, conn, schema)
	return err
}

// ApplyReport is Apply that returns what it ran: "CREATE SCHEMA ..." when
// it created the schema, then the name of each migration applied.
func ApplyReport(ctx context.Context, conn *pgx.Conn, schema string) ([]string, error) {
	if !ValidSchema(schema) {
		return nil, fmt.Errorf("apply migrations: invalid schema name %q (use lower-case letters, digits, _)", schema)
	}
	st, err := Inspect(ctx, conn, schema)
	if err != nil || st.Current() {
		return nil, err
	}
	var ran []string
	if !st.Exists {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
			return nil, fmt.Errorf("create schema %s: %w", schema, err)
		}
		ran = append(ran, "CREATE SCHEMA "+schema+";")
	}
	applied, err := migrateSchema(ctx, conn, schema)
	return append(ran, applied...), err
}

func migrateSchema(ctx context.Context, conn *pgx.Conn, schema string) ([]string, error) {
	m, err := migrate.NewMigrator(ctx, conn, schema+".schema_version")
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	m.Data["schema"] = schema
	if err := m.LoadMigrations(files); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var ran []string
	m.OnStart = func(seq int32, name, _, _ string) {
		ran = append(ran, fmt.Sprintf("-- migration %d: %s (the syncer's tables in %s)", seq, name, schema))
	}
	if err := m.Migrate(ctx); err != nil {
		return ran, fmt.Errorf("apply migrations: %w", err)
	}
	return ran, nil
}
