package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/migrations"
)

// checkSlot stops on a lost slot (replication.CheckSlot) unless
// source.on_slot_lost is resync; then it closes the gap.
func (s *Syncer) checkSlot(ctx context.Context, pool *pgxpool.Pool) error {
	err := replication.CheckSlot(ctx, pool, s.cfg.Source.Config)
	if !replication.IsSlotLost(err) || s.cfg.Source.OnSlotLost != replication.OnSlotLostResync {
		return err
	}
	s.log.Warn("the replication slot was lost; resyncing (source.on_slot_lost: resync)", "error", err)
	return s.resync(ctx, pool)
}

// resync closes the gap a lost slot left (issue 12): it drops what is left
// of the slot, creates a new one with a snapshot, records its identity with
// the checkpoint, and backfills every table a rule reads on snapshot from
// that snapshot before streaming starts: the current state of every row is
// sent again, and the stream carries every change after it.
//
// The order makes every interruption safe (docs/decisions.md, "Resync
// order"): the tables are registered before the old slot is dropped and the
// new identity is saved last, so a failure or a crash before the save
// leaves the slot counted as lost (missing, or re-created beyond the old
// identity) and the next start resyncs again, and one after it leaves the
// tables unfinished, which the next start finishes (from current data)
// before it streams.
func (s *Syncer) resync(ctx context.Context, pool *pgxpool.Pool) error {
	cfg := s.cfg.Source
	tables := s.cfg.Compiled.SnapshotTables()
	if err := s.register(ctx, pool, tables); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	if _, err := pool.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot); err != nil {
		return fmt.Errorf("resync: drop the lost slot %s: %w", cfg.Slot, err)
	}
	snap, err := replication.CreateSlotWithSnapshot(ctx, cfg.Config)
	if err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	defer closeSnapshot(ctx, snap)
	if err := replication.NewCheckpointStore(pool, cfg.Schema, cfg.Slot).RecordSlot(ctx, snap.ConsistentPoint); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	s.log.Info("resync: new slot created; backfilling from its snapshot", "slot", cfg.Slot,
		"consistent_point", snap.ConsistentPoint.String(), "tables", tables)
	return s.backfill(ctx, pool, tables, snap.Name)
}

// closeSnapshot ends the slot's snapshot connection even if ctx ended (a
// stop during the backfill), bounded so a hung database cannot hold the
// stop.
func closeSnapshot(ctx context.Context, snap *replication.SlotSnapshot) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	_ = snap.Close(ctx)
}

// closeTimeout bounds closing the snapshot's connection.
const closeTimeout = 5 * time.Second

// register records the tables of a first-time backfill or a resync as
// unfinished before their slot is created (backfill.Register).
func (s *Syncer) register(ctx context.Context, pool *pgxpool.Pool, tables []string) error {
	if len(tables) == 0 {
		return nil
	}
	return backfill.Register(ctx, pool, s.cfg.Source.Schema, tables)
}

// resumeUnfinished finishes a snapshot backfill (first start or resync)
// that a crash interrupted, from current data, before streaming.
func (s *Syncer) resumeUnfinished(ctx context.Context, pool *pgxpool.Pool) error {
	unfinished, err := backfill.Unfinished(ctx, pool, s.cfg.Source.Schema)
	if err != nil || len(unfinished) == 0 {
		return err
	}
	s.log.Warn("resuming an interrupted snapshot backfill from current data", "tables", unfinished)
	return s.backfill(ctx, pool, unfinished, "")
}

// Resync is `cdc setup --resync`: the resync of a lost slot, by hand, with
// no syncer running (the caller checks). It needs the same leader lock the
// syncer takes, so a syncer starting meanwhile waits.
func Resync(ctx context.Context, cfg *config.Config, opts Options) error {
	s := New(cfg, opts)
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	err = migrations.Apply(ctx, conn.Conn(), cfg.Source.Schema)
	conn.Release()
	if err != nil {
		return err
	}
	lead, err := acquireLeader(ctx, cfg, s.log, func() {})
	if err != nil {
		return err
	}
	defer lead.release()
	return s.resync(ctx, pool)
}
