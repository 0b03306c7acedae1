package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/migrations"
)

// SetupResult says what Setup did and what it could not do.
type SetupResult struct {
	Ran    []string  // SQL (or the equivalent command) Setup ran
	Others []Finding // what someone with more privileges must do
	Notes  []string  // what Setup deliberately left alone, and why
}

// Setup creates what Check found missing and is safe to create: the
// syncer's schema, the publication and the slot. It does not alter user
// tables or grant privileges; those come back as findings with their SQL.
func Setup(ctx context.Context, cfg *config.Config) (*SetupResult, error) {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer pc.Release()
	conn := pc.Conn()
	var res SetupResult
	if problems := replication.Preflight(ctx, conn, cfg.Source.Config); len(problems) > 0 {
		for _, p := range problems {
			res.Others = append(res.Others, Finding{Severity: SevError, What: p.What, Fix: p.Fix})
		}
		return &res, nil
	}
	hadSchema, err := replication.SchemaExists(ctx, conn, cfg.Source.Schema)
	if err != nil {
		return nil, err
	}
	if err := migrations.Apply(ctx, conn, cfg.Source.Schema); err != nil {
		return nil, err
	}
	if err := replication.CheckSlot(ctx, pool, cfg.Source.Config); err != nil {
		return nil, err // a lost slot: the message says how to resync
	}
	if err := replication.CheckContinuity(ctx, pool, cfg.Source.Config); err != nil {
		return nil, err
	}
	if !hadSchema {
		res.Ran = append(res.Ran, fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s; -- and the syncer's tables (migrations)", cfg.Source.Schema))
	}
	created, sql, err := replication.EnsurePublication(ctx, conn, cfg.Source.Config)
	if err != nil {
		return nil, err
	}
	if created {
		res.Ran = append(res.Ran, sql)
	}
	// With backfill.on_create the slot must be created by `cdc run`, which
	// backfills from the snapshot exported with it; a slot made here would
	// skip that backfill.
	if !cfg.Backfill.OnCreate {
		point, err := replication.EnsureSlotAt(ctx, cfg.Source.Config)
		if err == nil && point != 0 {
			err = replication.RecordSlot(ctx, conn, replication.CheckpointTable(cfg.Source.Schema), cfg.Source.Slot, point)
		}
		if err != nil {
			return nil, err
		}
		if point != 0 {
			res.Ran = append(res.Ran, fmt.Sprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput; -- on a replication connection", cfg.Source.Slot))
		}
	}
	fs, err := checkConn(ctx, conn, cfg)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.Severity == SevOK || (cfg.Backfill.OnCreate && strings.HasPrefix(f.What, "replication slot")) {
			continue
		}
		res.Others = append(res.Others, f)
	}
	if slot, err := replication.ReadSlot(ctx, conn, cfg.Source.Slot); err == nil && slot == nil && cfg.Backfill.OnCreate {
		res.Notes = append(res.Notes, fmt.Sprintf("slot %q is left for `cdc run` to create: with backfill.on_create it backfills the existing rows from the slot's snapshot first", cfg.Source.Slot))
	}
	return &res, nil
}
