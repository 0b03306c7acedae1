package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
)

// CheckResync decides whether `cdc setup --resync` may re-create the slot:
// no syncer may run (it owns the slot), and the slot must be lost
// (replication.CheckSlot) or missing. Re-creating a healthy slot would drop
// the changes it still holds for delivery.
func CheckResync(ctx context.Context, cfg *config.Config) error {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return errors.New("connect: invalid connection string")
	}
	defer pool.Close()
	running, err := SyncerRunning(ctx, pool, cfg.Source.Slot)
	if err != nil {
		return err
	}
	if running {
		return errors.New("a syncer is running for this slot: stop it first (or set source.on_slot_lost: resync and restart it)")
	}
	err = replication.CheckSlot(ctx, pool, cfg.Source.Config)
	if replication.IsSlotLost(err) {
		return nil
	}
	if err != nil {
		return err
	}
	slot, err := replication.ReadSlot(ctx, pool, cfg.Source.Slot)
	if err != nil || slot == nil {
		return err
	}
	return fmt.Errorf("replication slot %q is healthy: a resync would drop the changes it holds; nothing to do", cfg.Source.Slot)
}
