package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/retry"
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

// The lock connection's retry schedule: a standby (and a leader that lost
// its lock) waits through database restarts for as long as it lives.
const (
	lockRetryInitial = 500 * time.Millisecond
	lockRetryMax     = 15 * time.Second
)

// acquireLeader takes the lock. Without standby a held lock is an error;
// with standby it waits until the lock is free or ctx ends. A database that
// cannot be reached (a restart: FATAL 57P01) is retried with backoff, once
// logged per outage, never returned (issue 10.12).
// onWait is called whenever it finds the lock held and waits.
func acquireLeader(ctx context.Context, cfg *config.Config, log *slog.Logger, onWait func()) (*leader, error) {
	l := &leader{dsn: cfg.Source.DSN, slot: cfg.Source.Slot, log: log}
	waiting, failing := false, false
	b := retry.Backoff(lockRetryInitial, lockRetryMax)
	for {
		ok, err := l.try(ctx)
		// Jittered, so standbys do not poll in step with each other or with
		// the leader's watch: whoever polls first after a lock is lost wins.
		wait := leaderPoll/2 + rand.N(leaderPoll)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				log.Warn("leader lock: database unreachable; retrying", "slot", l.slot, "error", err)
				failing = true
			}
			wait = b.NextBackOff()
		case err != nil:
			return nil, ctx.Err()
		case ok:
			if waiting {
				log.Info("standby: lock acquired, taking over", "slot", l.slot)
			}
			return l, nil
		case !cfg.Standby:
			l.release()
			return nil, fmt.Errorf("another cdc instance is running for slot %q (set standby: true to wait for it)", l.slot)
		default:
			onWait()
			if !waiting {
				log.Info("standby: another instance is active; waiting", "slot", l.slot)
				waiting = true
			}
			failing = false
			b.Reset()
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			l.release()
			return nil, err
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
	if l.conn != nil && !l.conn.IsClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, unlockSQL) // a broken connection has no lock left to drop
		l.conn.Close(ctx)
	}
}

// unreachable reports whether err means the database could not be reached
// (a restart, a network cut) rather than a problem another attempt would
// meet again: connection failures, SQLSTATE classes 08 (connection
// exception) and 57 (operator intervention: shutdown, terminated backend).
func unreachable(err error) bool {
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57")
	}
	return false
}
