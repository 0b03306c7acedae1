package replication

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/stream"
)

// slotHealth is the slot as the server sees it, read on a normal
// connection (the replication connection cannot run queries while it
// streams). It is the one catalog read of the slot's run-time state: the
// final status report waits on ConfirmedFlush, the lag metrics read all of
// it on a timer, and run checks WALStatus before streaming and after a
// failure.
type slotHealth struct {
	ConfirmedFlush stream.LSN // what the server holds as done (0 if unknown)
	RestartLSN     stream.LSN // oldest WAL the slot keeps (0 once the slot is lost)
	CurrentWAL     stream.LSN // pg_current_wal_lsn()
	WALStatus      string     // reserved, extended, unreserved or lost (pg_replication_slots.wal_status)
	Active         bool       // a walsender is streaming from the slot
	KeepSize       string     // the server's max_slot_wal_keep_size setting
}

// errSlotMissing: the slot does not exist.
var errSlotMissing = errors.New("replication slot does not exist")

const slotHealthSQL = `SELECT coalesce(confirmed_flush_lsn::text, '0/0'), coalesce(restart_lsn::text, '0/0'),
	coalesce(wal_status, ''), active, pg_current_wal_lsn()::text, current_setting('max_slot_wal_keep_size')
	FROM pg_replication_slots WHERE slot_name = $1`

// readSlotHealth reads slot's state; errSlotMissing when there is none.
func readSlotHealth(ctx context.Context, pool *pgxpool.Pool, slot string) (slotHealth, error) {
	var h slotHealth
	var confirmed, restart, current string
	err := pool.QueryRow(ctx, slotHealthSQL, slot).Scan(&confirmed, &restart, &h.WALStatus, &h.Active, &current, &h.KeepSize)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, fmt.Errorf("read slot %s: %w", slot, errSlotMissing)
	}
	if err != nil {
		return h, fmt.Errorf("read slot %s: %w", slot, err)
	}
	for _, f := range []struct {
		text string
		dst  *stream.LSN
	}{{confirmed, &h.ConfirmedFlush}, {restart, &h.RestartLSN}, {current, &h.CurrentWAL}} {
		if *f.dst, err = stream.ParseLSN(f.text); err != nil {
			return h, fmt.Errorf("read slot %s: %w", slot, err)
		}
	}
	return h, nil
}
