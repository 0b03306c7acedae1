package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/stream"
)

// CheckContinuity refuses to stream when the stored checkpoint cannot be
// continued from: a slot that disappeared (dropped, or lost in a failover)
// while a checkpoint exists means the changes in between were never read,
// and a checkpoint ahead of the server's WAL means the database was restored
// or replaced. Creating a fresh slot silently would lose those changes, or
// skip every transaction until the WAL caught up.
func CheckContinuity(ctx context.Context, pool *pgxpool.Pool, cfg Config) error {
	p, err := NewCheckpointStore(pool, cfg.Schema, cfg.Slot).Load(ctx)
	if err != nil || p.IsZero() {
		return err
	}
	slot, err := ReadSlot(ctx, pool, cfg.Slot)
	if err != nil {
		return err
	}
	reset := fmt.Sprintf("to start over: DELETE FROM %s.checkpoint WHERE slot_name = '%s'; then run again and send the rows again (cdc backfill --all --restart; purchases are deduplicated by their unique key)",
		cfg.Schema, cfg.Slot)
	if slot == nil {
		return fmt.Errorf("replication slot %q is missing but a checkpoint exists at %s: changes made since then were never read; %s",
			cfg.Slot, p.CommitLSN, reset)
	}
	cur, err := stream.ParseLSN(slot.CurrentWAL)
	if err != nil {
		return fmt.Errorf("read current wal lsn: %w", err)
	}
	if p.CommitLSN > cur {
		return fmt.Errorf("the checkpoint (%s) is ahead of this server's WAL (%s): the database was restored or replaced; %s",
			p.CommitLSN, cur, reset)
	}
	return nil
}
