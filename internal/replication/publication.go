package replication

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// EnsurePublication creates cfg.Publication for cfg.Tables when it is
// missing, or adds the tables it does not publish yet (NotPublished: a
// partition whose parent is published counts as published). It returns the
// SQL it ran ("" when nothing was needed) so the caller can show the
// operator. It never drops tables from a publication: another tool may
// share it.
func EnsurePublication(ctx context.Context, conn *pgx.Conn, cfg Config) (created bool, sql string, err error) {
	quoted, err := quoteTables(cfg.Tables)
	if err != nil {
		return false, "", fmt.Errorf("ensure publication: %w", err)
	}
	pub := pgx.Identifier{cfg.Publication}.Sanitize()
	p, err := ReadPublication(ctx, conn, cfg.Publication)
	switch {
	case err != nil:
		return false, "", err
	case !p.Exists:
		parted, err := Partitioned(ctx, conn, cfg.Tables)
		if err != nil {
			return false, "", fmt.Errorf("ensure publication: %w", err)
		}
		sql = "CREATE PUBLICATION " + pub
		if len(quoted) > 0 {
			sql += " FOR TABLE " + strings.Join(quoted, ", ")
		}
		sql += PublicationOptions(parted)
		return true, sql, execDDL(ctx, conn, sql)
	case p.AllTables:
		return false, "", nil
	}
	missing, err := NotPublished(ctx, conn, cfg.Publication, cfg.Tables)
	if err != nil || len(missing) == 0 {
		return false, "", err
	}
	if quoted, err = quoteTables(missing); err != nil {
		return false, "", fmt.Errorf("ensure publication: %w", err)
	}
	sql = "ALTER PUBLICATION " + pub + " ADD TABLE " + strings.Join(quoted, ", ")
	return false, sql, execDDL(ctx, conn, sql)
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
