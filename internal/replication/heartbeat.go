package replication

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// heartbeatLoop writes a tiny transactional logical message every
// cfg.Heartbeat. It gives the slot a transaction to decode even when the
// published tables are quiet, so the idle reader sees the WAL end move and
// can confirm it (doc.go, "Idle"). The decoder drops these messages.
func (r *Reader) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.Heartbeat)
	defer t.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var err error
		conn, err = r.heartbeat(ctx, conn)
		if err != nil && !failing && ctx.Err() == nil {
			r.log.Warn("heartbeat failed", "error", err) // once per outage, not per tick
		}
		failing = err != nil
	}
}

// heartbeat emits one message, (re)connecting as needed; it returns the
// connection to reuse, or nil after a failure.
func (r *Reader) heartbeat(ctx context.Context, conn *pgx.Conn) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Heartbeat)
	defer cancel()
	if conn == nil {
		var err error
		if conn, err = pgx.Connect(ctx, r.cfg.DSN); err != nil {
			return nil, err
		}
	}
	if _, err := conn.Exec(ctx, "SELECT pg_logical_emit_message(true, $1, '')", heartbeatPrefix); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}
