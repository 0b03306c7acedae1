package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSlotLost means the server invalidated the slot (wal_status = lost):
// it removed WAL the slot still needed, so the changes in it can no longer
// be read (issue 10.10). Only an operator can recover; see slotLostError.
var ErrSlotLost = errors.New("the replication slot was invalidated")

// checkSlotLost returns a slotLostError when the slot's wal_status is
// lost, nil otherwise (including when the slot cannot be read: other
// checks report that). Run asks before streaming and after a permanent
// streaming error ("cannot read from logical replication slot", 55000).
func (r *Reader) checkSlotLost(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h, err := readSlotHealth(ctx, r.store.pool, r.cfg.Slot)
	if err != nil || h.WALStatus != "lost" {
		return nil
	}
	return r.slotLostError(h)
}

// slotLostError says what happened, what was lost and how to recover.
func (r *Reader) slotLostError(h slotHealth) error {
	pos, _ := r.acks.durable()
	return fmt.Errorf("%w: replication slot %q has wal_status = lost: the server removed WAL the slot still needed, "+
		"because the slot fell more than max_slot_wal_keep_size (%s) behind the server's WAL while the syncer was stopped or slow. "+
		"Lost: every change committed after the checkpoint %s that was not yet delivered; it can no longer be read. "+
		"To recover: stop cdc and run cdc setup --resync (or set source.on_slot_lost: resync and start again): "+
		"it creates a new slot and re-sends the current state of every table from its snapshot; then cdc reconcile proves the purchases (README, A lost slot). "+
		"To prevent it: raise max_slot_wal_keep_size and alert on cdc_replication_slot_wal_status >= 2 (README, Troubleshooting)",
		ErrSlotLost, r.cfg.Slot, h.KeepSize, pos)
}

// objectNotInPrerequisiteState is SQLSTATE 55000, which Postgres uses for
// "cannot read from logical replication slot" (and for wal_level problems).
func objectNotInPrerequisiteState(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55000"
}
