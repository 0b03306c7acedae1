package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/stream"
	"github.com/pgbento/cdc/migrations"
)

// BackfillTables is every table the rules use (all) or the one table named
// ("orders" means "public.orders"), which a rule must use.
func BackfillTables(cfg *config.Config, table string, all bool) ([]string, error) {
	used := cfg.Compiled.Tables()
	if all {
		return used, nil
	}
	q := stream.QualifyTable(table)
	if !slices.Contains(used, q) {
		return nil, fmt.Errorf("no rule uses table %s (rules use: %v)", q, used)
	}
	return []string{q}, nil
}

// OpenForBackfill opens a pool for a backfill or a preview; writes
// (progress, dead letters) need the syncer's schema, which it creates or
// migrates like `cdc run` does.
func OpenForBackfill(ctx context.Context, cfg *config.Config, writes bool) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, errors.New("connect: invalid connection string") // the error may quote the DSN
	}
	if !writes {
		return pool, nil
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	if err := migrations.Apply(ctx, conn.Conn(), cfg.Source.Schema); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// BackfillLimiter paces a backfill's requests to Bento: perMinute requests
// a minute (<= 0: unlimited), by default half of bento.requests_per_minute
// so a running syncer keeps its share.
func BackfillLimiter(cfg *config.Config, perMinute float64, isDefault bool) *rate.Limiter {
	b := cfg.Bento
	b.RequestsPerMinute = perMinute
	if isDefault {
		b.RequestsPerMinute = cfg.Bento.RequestsPerMinute / 2
	}
	return bento.NewLimiter(b)
}
