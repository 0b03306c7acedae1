package pipeline_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// instance is one syncer run in the background.
type instance struct {
	s      *pipeline.Syncer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with err set
	err    error
}

// leaderAndStandby starts two instances with standby: true: first
// streams, second waits for the lock. first connects as firstCfg when it is
// not nil.
func leaderAndStandby(t *testing.T, firstCfg func(*env) *config.Config) (*env, *instance, *instance) {
	t.Helper()
	e := newEnv(t, "standby: true\n")
	cfg := e.Cfg
	if firstCfg != nil {
		cfg = firstCfg(e)
	}
	first := e.spawnWith(t, cfg)
	require.Eventually(t, first.ready, 30*time.Second, 20*time.Millisecond)
	second := e.spawn(t)
	require.Eventually(t, second.standby, 20*time.Second, 20*time.Millisecond)
	return e, first, second
}

func (e *env) spawn(t *testing.T) *instance { return e.spawnWith(t, e.Cfg) }

func (e *env) spawnWith(t *testing.T, cfg *config.Config) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", t.Name())
	in := &instance{s: pipeline.New(cfg, pipeline.Options{Logger: log}), cancel: cancel, done: make(chan struct{})}
	go func() { in.err = in.s.Run(ctx); close(in.done) }()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop ends the instance (idempotent) and requires a clean return.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case <-in.done:
		require.NoError(t, in.err)
	case <-time.After(30 * time.Second):
		t.Error("instance did not stop")
	}
}

func (in *instance) ready() bool { ok, _ := in.s.Ready(); return ok }

// leading: holds the lock (streaming or getting there).
func (in *instance) leading() bool {
	ok, why := in.s.Ready()
	return ok || !(strings.HasPrefix(why, "standby") || strings.HasPrefix(why, "starting: not leading"))
}

func (in *instance) standby() bool {
	ok, why := in.s.Ready()
	return !ok && strings.HasPrefix(why, "standby")
}

// requireRunning fails if the instance's Run returned.
func (in *instance) requireRunning(t *testing.T, what string) {
	t.Helper()
	select {
	case <-in.done:
		t.Fatalf("%s exited: %v", what, in.err)
	default:
	}
}

// TestStandbySurvivesAPostgresRestart: a restart cuts every connection,
// including the lock connections of the leader and of the waiting standby.
// Neither exits (issue 10.12): afterwards one leads, the other waits, and
// the waiting one takes over when the leader stops. Not parallel: the
// restart breaks every connection to the shared server.
func TestStandbySurvivesAPostgresRestart(t *testing.T) {
	e, first, second := leaderAndStandby(t, nil)

	pgtest.Restart(t)
	require.Eventually(t, func() bool {
		first.requireRunning(t, "the leader")
		second.requireRunning(t, "the standby")
		return (first.ready() && second.standby()) || (second.ready() && first.standby())
	}, 60*time.Second, 50*time.Millisecond, "after the restart, one instance must lead and the other wait")

	leader, waiting := first, second
	if second.ready() {
		leader, waiting = second, first
	}
	leader.stop(t)
	require.Eventually(t, waiting.ready, 30*time.Second, 50*time.Millisecond, "the standby did not take over")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('after-restart@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
}

// paidOrders inserts a paid order every interval until ctx ends: one
// purchase event per transaction.
func (e *env) paidOrders(ctx context.Context, t *testing.T, interval time.Duration) <-chan struct{} {
	t.Helper()
	e.DB.Exec(t, `INSERT INTO customers (email) SELECT 'buyer' || i || '@example.com' FROM generate_series(1, 20) i`)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_, err := e.DB.Pool.Exec(ctx, `INSERT INTO orders (customer_id, status, total, paid_at)
				SELECT id, 'paid', 10.00, now() FROM customers ORDER BY id OFFSET $1 LIMIT 1`, i%20)
			if err != nil && ctx.Err() == nil {
				t.Errorf("insert order: %v", err)
				return
			}
		}
	}()
	return done
}

// killLockSession terminates the backend holding the advisory leader lock.
func (e *env) killLockSession(t *testing.T) {
	t.Helper()
	var killed int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed))
	require.Equal(t, 1, killed, "one lock holder")
}

// TestTakeoverResendsAtMostOneRequest: killing the leader's lock session
// under load lets the standby take over while the old leader still
// delivers. The checkpoint's epoch fences the old leader: its next save
// matches no row and it stops before its next request, so the purchases
// sent twice all come from one request of the old leader (issue 10.13).
//
// The old leader connects as a role of its own, which cannot log in while
// its lock session is cut: its lock watch cannot take the lock back, so the
// standby takes over at its next poll. (Otherwise whichever instance polls
// first after the cut wins, the old leader about half the time.)
func TestTakeoverResendsAtMostOneRequest(t *testing.T) {
	var role string
	e, first, second := leaderAndStandby(t, func(e *env) *config.Config {
		var dsn string
		role, dsn = e.DB.NewRole(t, "su_", "SUPERUSER")
		cfg := *e.Cfg
		cfg.Source.DSN = dsn
		return &cfg
	})
	ctx, stopWriting := context.WithCancel(context.Background())
	defer stopWriting()
	writing := e.paidOrders(ctx, t, 5*time.Millisecond)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) > 100 }, 30*time.Second, 20*time.Millisecond)

	e.DB.Exec(t, `ALTER ROLE `+role+` NOLOGIN`) // its open connections stay
	e.killLockSession(t)
	require.Eventually(t, func() bool {
		first.requireRunning(t, "the old leader")
		return second.leading()
	}, 30*time.Second, 20*time.Millisecond, "the standby never took over")
	e.DB.Exec(t, `ALTER ROLE `+role+` LOGIN`)
	require.Eventually(t, func() bool { return second.ready() && first.standby() }, 30*time.Second, 20*time.Millisecond,
		"the new leader streams, the old one waits as a standby")
	require.Eventually(t, func() bool { return len(e.Fake.Received()) > 300 }, 30*time.Second, 20*time.Millisecond)
	stopWriting()
	<-writing
	if !e.totalsMatchWithin(60 * time.Second) {
		e.explainMissing(t)
	}

	firstCopy := map[string]int{}    // purchase key -> request of its first copy
	resentFrom := map[int][]string{} // request -> keys sent again later
	for _, ev := range e.Fake.Received() {
		if ev.Type != "$purchase" {
			continue
		}
		if req, seen := firstCopy[ev.UniqueKey()]; seen {
			resentFrom[req] = append(resentFrom[req], ev.UniqueKey())
			continue
		}
		firstCopy[ev.UniqueKey()] = ev.Request
	}
	t.Logf("purchases: %d, requests whose purchases were sent again: %d (%v)", len(firstCopy), len(resentFrom), resentFrom)
	require.LessOrEqual(t, len(resentFrom), 1, "one takeover may re-send at most the one request in flight")
}
