package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// EnsurePublication creates cfg.Publication for cfg.Tables when it is
// missing, or adds the tables it lacks. It returns the SQL it ran ("" when
// nothing was needed) so the caller can show the operator. It never drops
// tables from a publication: another tool may share it.
func EnsurePublication(ctx context.Context, conn *pgx.Conn, cfg Config) (created bool, sql string, err error) {
	quoted := make([]string, 0, len(cfg.Tables))
	for _, t := range cfg.Tables {
		q, err := quoteTable(t)
		if err != nil {
			return false, "", fmt.Errorf("ensure publication: %w", err)
		}
		quoted = append(quoted, q)
	}
	pub := pgx.Identifier{cfg.Publication}.Sanitize()
	var allTables bool
	err = conn.QueryRow(ctx, `SELECT puballtables FROM pg_publication WHERE pubname = $1`, cfg.Publication).Scan(&allTables)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		sql = "CREATE PUBLICATION " + pub
		if len(quoted) > 0 {
			sql += " FOR TABLE " + strings.Join(quoted, ", ")
		}
		return true, sql, execDDL(ctx, conn, sql)
	case err != nil:
		return false, "", fmt.Errorf("read publication %s: %w", cfg.Publication, err)
	case allTables:
		return false, "", nil
	}
	missing, err := missingTables(ctx, conn, cfg)
	if err != nil || len(missing) == 0 {
		return false, "", err
	}
	sql = "ALTER PUBLICATION " + pub + " ADD TABLE " + strings.Join(missing, ", ")
	return false, sql, execDDL(ctx, conn, sql)
}

// missingTables returns the quoted names of cfg.Tables not yet published.
func missingTables(ctx context.Context, conn *pgx.Conn, cfg Config) ([]string, error) {
	var missing []string
	for _, t := range cfg.Tables {
		q, _ := quoteTable(t) // validated by the caller
		var in bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
			WHERE p.pubname = $1 AND pr.prrelid = $2::regclass)`, cfg.Publication, q).Scan(&in)
		if err != nil {
			return nil, fmt.Errorf("read publication tables: %w", err)
		}
		if !in {
			missing = append(missing, q)
		}
	}
	return missing, nil
}

func execDDL(ctx context.Context, conn *pgx.Conn, sql string) error {
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("ensure publication: %s: %w", sql, err)
	}
	return nil
}
