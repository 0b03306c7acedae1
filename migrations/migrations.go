// Package migrations holds the SQL for the syncer's own schema (checkpoint,
// dead letters, backfill progress, delivery ledger), embedded in the binary, and applies it
// with tern. It owns nothing else: the tables' meaning is documented where
// they are used.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

var ident = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidSchema reports whether name is usable as the syncer's schema: a plain
// lower-case identifier, so it never needs quoting in SQL.
func ValidSchema(name string) bool { return ident.MatchString(name) }

// Apply creates schema if missing and brings it to the newest version. It is
// safe to run concurrently from several processes (tern takes an advisory
// lock) and on every start.
func Apply(ctx context.Context, conn *pgx.Conn, schema string) error {
	if !ValidSchema(schema) {
		return fmt.Errorf("apply migrations: invalid schema name %q (use lower-case letters, digits, _)", schema)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	m, err := migrate.NewMigrator(ctx, conn, schema+".schema_version")
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	m.Data["schema"] = schema
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}
