package ops

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// Setup creates what Check found missing and the role may create: the
// syncer's schema (and its tables), the publication and the slot. What the
// role lacks the privileges for (CREATE on the database, ownership of the
// tables) and what it must not do (alter user tables, grant privileges)
// comes back in Others with the SQL an admin runs; Setup goes on with the
// rest. It returns an error only for a failure it could not diagnose, or
// when a checkpoint exists that cannot be continued from.
func Setup(ctx context.Context, cfg *config.Config) (*SetupResult, error) {
	db, err := openTarget(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer db.close()
	var res SetupResult
	steps := []func(context.Context, *SetupResult) error{db.setupSchema, db.setupPublication, db.setupSlot}
	if problems := db.preflight(ctx); len(problems) > 0 {
		// The schema does not depend on what preflight found (wal_level,
		// REPLICATION, the tables, a free slot); the publication and the
		// slot do, so they wait.
		steps = steps[:1]
		res.Notes = append(res.Notes, "publication and slot are left until the errors below are fixed; run cdc setup again then")
	}
	for _, step := range steps {
		if err := step(ctx, &res); err != nil {
			return nil, err
		}
	}
	fs, err := db.check(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.Severity == SevOK || (cfg.Backfill.OnCreate && strings.HasPrefix(f.What, "replication slot")) {
			continue
		}
		res.Others = append(res.Others, f)
	}
	return &res, nil
}

// setupSchema creates or migrates the syncer's schema when the role may
// (checkSchema has no error), then refuses to go on when the stored
// checkpoint cannot be continued from.
func (t *target) setupSchema(ctx context.Context, res *SetupResult) error {
	fs, err := t.checkSchema(ctx)
	if err != nil || !Runnable(fs) {
		return err
	}
	ran, err := migrations.ApplyReport(ctx, t.conn, t.cfg.Source.Schema)
	if err != nil {
		return err
	}
	res.Ran = append(res.Ran, ran...)
	if err := replication.CheckSlot(ctx, t.pool, t.cfg.Source.Config); err != nil {
		return err // a lost slot: the message says how to resync
	}
	return replication.CheckContinuity(ctx, t.pool, t.cfg.Source.Config)
}

// setupPublication creates or extends the publication when the role may.
func (t *target) setupPublication(ctx context.Context, res *SetupResult) error {
	fs, err := t.checkPublication(ctx)
	warns := slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == SevWarn })
	if err != nil || !Runnable(fs) || !warns {
		return err
	}
	_, sql, err := replication.EnsurePublication(ctx, t.conn, t.cfg.Source.Config)
	if err != nil {
		return err
	}
	if sql != "" {
		res.Ran = append(res.Ran, sql+";")
	}
	return nil
}

// setupSlot creates the slot, unless backfill.on_create leaves it to run
// (which backfills from the snapshot exported with it) or the publication
// does not exist yet (pgoutput cannot decode changes older than it).
func (t *target) setupSlot(ctx context.Context, res *SetupResult) error {
	cfg := t.cfg
	slot, err := replication.ReadSlot(ctx, t.conn, cfg.Source.Slot)
	if err != nil || slot != nil {
		return err
	}
	if cfg.Backfill.OnCreate {
		res.Notes = append(res.Notes, fmt.Sprintf("slot %q is left for `cdc run` to create: with backfill.on_create it backfills the existing rows from the slot's snapshot first", cfg.Source.Slot))
		return nil
	}
	pub, err := replication.ReadPublication(ctx, t.conn, cfg.Source.Publication)
	if err != nil {
		return err
	}
	if !pub.Exists {
		res.Notes = append(res.Notes, fmt.Sprintf("slot %q is created once publication %q exists: run cdc setup again after the SQL below", cfg.Source.Slot, cfg.Source.Publication))
		return nil
	}
	point, err := replication.EnsureSlotAt(ctx, cfg.Source.Config)
	if err != nil || point == 0 {
		return err
	}
	res.Ran = append(res.Ran, fmt.Sprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput; -- on a replication connection", cfg.Source.Slot))
	return replication.RecordSlot(ctx, t.conn, replication.CheckpointTable(cfg.Source.Schema), cfg.Source.Slot, point)
}
