package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnsurePublication creates cfg.Publication for cfg.Tables when it is
// missing, or adds the tables it does not publish yet (NotPublished: a
// partition whose parent is published counts as published), and sets
// publish_via_partition_root on it when a watched table is partitioned
// (ViaRootSQL; an error with the SQL when the role does not own it). It
// returns the SQL it ran ("" when nothing was needed) so the caller can
// show the operator. It never drops tables from a publication: another
// tool may share it.
func EnsurePublication(ctx context.Context, conn *pgx.Conn, cfg Config) (created bool, sql string, err error) {
	p, err := ReadPublication(ctx, conn, cfg.Publication)
	switch {
	case err != nil:
		return false, "", err
	case !p.Exists:
		sql, err = createPublication(ctx, conn, cfg)
		return err == nil, sql, err
	}
	var ran []string
	if !p.AllTables {
		add, err := addTables(ctx, conn, cfg)
		if err != nil {
			return false, add, err
		}
		ran = appendSQL(ran, add)
	}
	via, err := ViaRootSQL(ctx, conn, cfg, p)
	if err != nil || via == "" {
		return false, strings.Join(ran, "; "), err
	}
	if !p.Owned {
		return false, strings.Join(ran, "; "), fmt.Errorf("ensure publication: publication %s lacks publish_via_partition_root "+
			"while a watched table is partitioned (its partitions' changes would arrive under their own names) and "+
			"this role does not own it: its owner runs %s;", cfg.Publication, via)
	}
	return false, strings.Join(appendSQL(ran, via), "; "), execDDL(ctx, conn, via)
}

func createPublication(ctx context.Context, conn *pgx.Conn, cfg Config) (string, error) {
	quoted, err := quoteTables(cfg.Tables)
	if err != nil {
		return "", fmt.Errorf("ensure publication: %w", err)
	}
	parted, err := Partitioned(ctx, conn, cfg.Tables)
	if err != nil {
		return "", fmt.Errorf("ensure publication: %w", err)
	}
	sql := "CREATE PUBLICATION " + pgx.Identifier{cfg.Publication}.Sanitize()
	if len(quoted) > 0 {
		sql += " FOR TABLE " + strings.Join(quoted, ", ")
	}
	sql += PublicationOptions(parted)
	return sql, execDDL(ctx, conn, sql)
}

// addTables adds the tables the publication does not publish yet.
func addTables(ctx context.Context, conn *pgx.Conn, cfg Config) (string, error) {
	missing, err := NotPublished(ctx, conn, cfg.Publication, cfg.Tables)
	if err != nil || len(missing) == 0 {
		return "", err
	}
	quoted, err := quoteTables(missing)
	if err != nil {
		return "", fmt.Errorf("ensure publication: %w", err)
	}
	sql := "ALTER PUBLICATION " + pgx.Identifier{cfg.Publication}.Sanitize() + " ADD TABLE " + strings.Join(quoted, ", ")
	err = execDDL(ctx, conn, sql)
	if insufficientPrivilege(err) {
		// A least-privileged role: an admin extends the publication
		// (README, "Adding a table"); the raw "must be owner of" says
		// neither what is missing nor who runs what.
		return sql, fmt.Errorf("ensure publication: publication %s lacks %s and this role may not add them "+
			"(adding a table takes owning the publication and the table): an admin (their owner or a superuser) runs %s "+
			"then start again (cdc check prints the same)", cfg.Publication, strings.Join(missing, ", "), AddTablesSQL(cfg.Publication, missing))
	}
	return sql, err
}

func insufficientPrivilege(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// ViaRootSQL is the statement that sets publish_via_partition_root on the
// existing publication p when one of the watched tables is partitioned and
// p lacks it; "" when nothing is needed. Without it pgoutput sends a
// partition's changes under the partition's name (issue 10.3).
func ViaRootSQL(ctx context.Context, q Querier, cfg Config, p Publication) (string, error) {
	if !p.Exists || p.ViaRoot {
		return "", nil
	}
	parted, err := Partitioned(ctx, q, cfg.Tables)
	if err != nil || len(parted) == 0 {
		return "", err
	}
	return "ALTER PUBLICATION " + pgx.Identifier{cfg.Publication}.Sanitize() + " SET (publish_via_partition_root = true)", nil
}

func appendSQL(ran []string, sql string) []string {
	if sql == "" {
		return ran
	}
	return append(ran, sql)
}

// PublicationOptions is the WITH clause of a new publication for tables of
// which parted are partitioned: publish_via_partition_root, so the changes
// of their partitions arrive under the partitioned table's name, the one
// the rules use. Empty when no table is partitioned.
func PublicationOptions(parted []string) string {
	if len(parted) == 0 {
		return ""
	}
	return " WITH (publish_via_partition_root = true)"
}

func quoteTables(tables []string) ([]string, error) {
	quoted := make([]string, 0, len(tables))
	for _, t := range tables {
		q, err := QuoteTable(t)
		if err != nil {
			return nil, err
		}
		quoted = append(quoted, q)
	}
	return quoted, nil
}

func execDDL(ctx context.Context, conn *pgx.Conn, sql string) error {
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("ensure publication: %s: %w", sql, err)
	}
	return nil
}
