package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgbento/cdc/internal/config"
)

// errLostLeadership ends a leader that another instance replaced: it must
// stop sending at once, without a graceful drain or a final checkpoint,
// since the new leader now owns both.
var errLostLeadership = errors.New("lost the leader lock")

// leaderPoll is how often a standby retries the lock and a leader checks it
// still holds it.
const leaderPoll = 2 * time.Second

// leader holds a session advisory lock named after the slot on a dedicated
// connection: one instance per slot streams, a standby waits for the lock.
// The slot itself also admits one reader at a time; the lock makes the
// waiting explicit and gives /readyz an answer.
type leader struct {
	dsn, slot string
	log       *slog.Logger
	conn      *pgx.Conn
}

const lockSQL = `SELECT pg_try_advisory_lock(hashtext('cdc-bento:' || $1)::bigint)`

// unlockSQL drops every advisory lock of the lock's dedicated connection
// (the lock, however many times it was taken on it).
const unlockSQL = `SELECT pg_advisory_unlock_all()`

// acquireLeader takes the lock. Without standby a held lock is an error;
// with standby it waits until the lock is free or ctx ends.
func acquireLeader(ctx context.Context, cfg *config.Config, log *slog.Logger) (*leader, error) {
	l := &leader{dsn: cfg.Source.DSN, slot: cfg.Source.Slot, log: log}
	waiting := false
	for {
		ok, err := l.try(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			if waiting {
				log.Info("standby: lock acquired, taking over", "slot", l.slot)
			}
			return l, nil
		}
		if !cfg.Standby {
			return nil, fmt.Errorf("another cdc instance is running for slot %q (set standby: true to wait for it)", l.slot)
		}
		if !waiting {
			log.Info("standby: another instance is active; waiting", "slot", l.slot)
			waiting = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(leaderPoll):
		}
	}
}

func (l *leader) try(ctx context.Context) (bool, error) {
	if l.conn == nil || l.conn.IsClosed() {
		conn, err := pgx.Connect(ctx, l.dsn)
		if err != nil {
			return false, fmt.Errorf("connect for leader lock: %w", err)
		}
		l.conn = conn
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, lockSQL, l.slot).Scan(&ok); err != nil {
		l.conn.Close(ctx)
		return false, fmt.Errorf("take leader lock: %w", err)
	}
	return ok, nil
}

// watch returns when the lock is lost and cannot be taken back (another
// instance took over), or when ctx ends. A lost connection (a Postgres
// restart) is retried: the lock is re-taken when nobody else has it.
func (l *leader) watch(ctx context.Context) error {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if l.conn != nil && !l.conn.IsClosed() && l.conn.Ping(ctx) == nil {
			continue
		}
		ok, err := l.try(ctx)
		if err != nil {
			l.log.Warn("leader lock: database unreachable; retrying", "error", err)
			continue
		}
		if !ok {
			return fmt.Errorf("%w for slot %q to another instance", errLostLeadership, l.slot)
		}
	}
}

// release unlocks before it closes the connection, so the lock is free
// when Run returns: a backend drops its session locks only as it exits, a
// moment after its client left, and a command run right then would find the
// lock still held (a restart fails as a second instance; `cdc dlq replay`
// hands off to a syncer that is gone and waits for it).
func (l *leader) release() {
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, unlockSQL) // a broken connection has no lock left to drop
		l.conn.Close(ctx)
	}
}
