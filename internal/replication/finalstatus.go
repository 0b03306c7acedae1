package replication

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/stream"
)

// A clean stop reports the final checkpoint to the server (issue 10.11):
// otherwise the slot's confirmed_flush_lsn stays where the last periodic
// status left it, WAL stays pinned while the syncer is stopped, and the next
// start decodes again everything since.
//
// The replication goroutine owns the connection while Run runs. When Run
// ends because its context ended (a clean stop) and the connection still
// streams, the session parks it on the Reader instead of closing it; Close,
// which runs only after Run returned, takes it over, saves the final
// position, reports it, waits up to finalConfirmWait for the server to show
// it, and closes the connection. One owner at a time, never two at once.
const (
	finalConfirmWait = 2 * time.Second
	finalConfirmPoll = 20 * time.Millisecond
)

// parkedConn is a still-streaming replication connection handed from the
// ended replication goroutine to Close.
type parkedConn struct {
	conn  *pgconn.PgConn
	floor stream.LSN // what the session last reported: never report less
}

// reportFinal sends the saved flush LSN on the parked connection, waits
// (bounded) until pg_replication_slots shows it, and closes the connection.
func (r *Reader) reportFinal(p *parkedConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), finalConfirmWait)
	defer cancel()
	defer p.conn.Close(context.WithoutCancel(ctx))
	_, flush := r.acks.durable()
	if flush <= p.floor {
		return nil // the server already holds it
	}
	err := pglogrepl.SendStandbyStatusUpdate(ctx, p.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(flush), WALFlushPosition: pglogrepl.LSN(flush), WALApplyPosition: pglogrepl.LSN(flush),
	})
	if err != nil {
		return fmt.Errorf("report final position: %w", err)
	}
	return r.waitConfirmed(ctx, flush)
}

// waitConfirmed polls the slot until the server shows flush as confirmed.
func (r *Reader) waitConfirmed(ctx context.Context, flush stream.LSN) error {
	t := time.NewTicker(finalConfirmPoll)
	defer t.Stop()
	for {
		h, err := readSlotHealth(ctx, r.store.pool, r.cfg.Slot)
		if err == nil && h.ConfirmedFlush >= flush {
			r.metrics.checkpoint.Set(float64(flush))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the server to confirm %s: %w", flush, ctx.Err())
		case <-t.C:
		}
	}
}
