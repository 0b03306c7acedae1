package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/replication"
)

// ensure creates the publication and the slot when missing. With
// backfill.on_create, a slot it creates comes with an exported snapshot and
// the rules' tables are backfilled from that snapshot before streaming
// starts: rows before the slot are counted by the backfill, changes after it
// by the stream, each exactly once.
func (s *Syncer) ensure(ctx context.Context, pool *pgxpool.Pool) error {
	cfg, log := s.cfg, s.log
	if err := s.checkSlot(ctx, pool); err != nil {
		return err
	}
	if err := replication.CheckContinuity(ctx, pool, cfg.Source.Config); err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	created, sql, err := replication.EnsurePublication(ctx, conn.Conn(), cfg.Source.Config)
	if err != nil {
		return err
	}
	switch {
	case created:
		log.Info("publication created", "publication", cfg.Source.Publication, "sql", sql)
	case sql != "":
		// A table added to an existing publication (new in the config, or
		// dropped from it while the syncer was down): the slot never
		// decoded its changes from before, and never will.
		log.Warn("publication extended: changes to a table made while the publication lacked it were not streamed; "+
			"send them with cdc backfill --table T for each table added", "publication", cfg.Source.Publication, "sql", sql)
	}
	if !cfg.Backfill.OnCreate {
		if err := s.ensureSlot(ctx, pool); err != nil {
			return err
		}
		return s.resumeUnfinished(ctx, pool)
	}
	return s.ensureWithBackfill(ctx, pool)
}

// ensureWithBackfill creates the slot with a snapshot and backfills from it,
// or, when the slot exists, finishes a first-time backfill that a crash
// interrupted (from current data: rows changed since may be sent twice;
// purchases are deduplicated by their unique key). Every table is
// registered before the slot is created, so neither a crash nor a failure
// after the slot exists leaves a table out: the next start finds the slot
// and the unfinished tables (resync.go says why this order). A table with
// earlier finished backfill progress is not sent again.
func (s *Syncer) ensureWithBackfill(ctx context.Context, pool *pgxpool.Pool) error {
	cfg := s.cfg
	slot, err := replication.ReadSlot(ctx, pool, cfg.Source.Slot)
	if err != nil {
		return err
	}
	if slot != nil {
		return s.resumeUnfinished(ctx, pool)
	}
	tables, err := s.neverBackfilled(ctx, pool)
	if err != nil {
		return err
	}
	if err := s.register(ctx, pool, tables); err != nil {
		return err
	}
	snap, err := replication.CreateSlotWithSnapshot(ctx, cfg.Source.Config)
	if err != nil {
		return err
	}
	defer closeSnapshot(ctx, snap)
	if err := replication.NewCheckpointStore(pool, cfg.Source.Schema, cfg.Source.Slot).RecordSlot(ctx, snap.ConsistentPoint); err != nil {
		return err
	}
	if len(tables) > 0 {
		s.log.Info("replication slot created; backfilling from its snapshot", "slot", cfg.Source.Slot,
			"consistent_point", snap.ConsistentPoint.String(), "tables", tables)
	}
	return s.backfill(ctx, pool, tables, snap.Name)
}

// ensureSlot creates the slot when missing and records its identity.
func (s *Syncer) ensureSlot(ctx context.Context, pool *pgxpool.Pool) error {
	cfg := s.cfg.Source
	point, err := replication.EnsureSlotAt(ctx, cfg.Config)
	if err != nil || point == 0 {
		return err
	}
	s.log.Info("replication slot created", "slot", cfg.Slot, "consistent_point", point.String())
	return replication.NewCheckpointStore(pool, cfg.Schema, cfg.Slot).RecordSlot(ctx, point)
}

// neverBackfilled is the rules' tables without finished backfill progress
// of their own: a table backfilled before (by hand, or for an earlier slot)
// is not sent again on its own; `cdc backfill --restart` does that on
// purpose. A table registered for a first-time backfill that never
// finished (its slot was never created) is included again.
func (s *Syncer) neverBackfilled(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	known, err := backfill.Known(ctx, pool, s.cfg.Source.Schema)
	if err != nil {
		return nil, err
	}
	unfinished, err := backfill.Unfinished(ctx, pool, s.cfg.Source.Schema)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range s.cfg.Compiled.Tables() {
		if slices.Contains(known, t) && !slices.Contains(unfinished, t) {
			s.log.Warn("not backfilling a table backfilled before; use cdc backfill --restart to send it again", "table", t)
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Syncer) backfill(ctx context.Context, pool *pgxpool.Pool, tables []string, snapshot string) error {
	defer s.setPhase("")
	for _, table := range tables {
		s.setPhase("first-time backfill of " + table + " (streaming starts after it)")
		res, err := backfill.Run(ctx, backfill.Options{
			Pool: pool, Rules: s.cfg.Compiled, Schema: s.cfg.Source.Schema, Table: table, Snapshot: snapshot,
			ChunkSize: s.cfg.Backfill.ChunkSize, Bento: s.cfg.Bento, HTTPClient: s.opts.HTTPClient,
			Version: s.opts.Version, Logger: s.opts.Logger, Registry: s.opts.Registry,
			Progress: backfill.NewLogReporter(s.opts.Logger, 10*time.Second),
			Ledger:   ledger.NewRecorder(pool, s.cfg.Source.Schema, s.cfg.Ledger, ledger.OriginBackfill, s.opts.Logger),
		})
		if err != nil {
			return fmt.Errorf("first-time backfill of %s: %w", table, err)
		}
		s.log.Info("first-time backfill done", "table", table, "rows", res.Rows, "events", res.Events, "failures", res.Failures)
	}
	return nil
}
