package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pipeline"
)

func TestStandbyWaitsAndTakesOver(t *testing.T) {
	e := newEnv(t, "standby: true\n")
	stopFirst := e.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := pipeline.New(e.Cfg, pipeline.Options{})
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	require.Eventually(t, func() bool {
		ok, why := second.Ready()
		return !ok && strings.HasPrefix(why, "standby")
	}, 20*time.Second, 20*time.Millisecond)

	require.NoError(t, stopFirst())
	require.Eventually(t, func() bool { ok, _ := second.Ready(); return ok }, 30*time.Second, 50*time.Millisecond)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('later@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestSecondInstanceWithoutStandbyFails(t *testing.T) {
	e := newEnv(t, "")
	e.Start(t)
	err := pipeline.New(e.Cfg, pipeline.Options{}).Run(context.Background())
	require.ErrorContains(t, err, "another cdc instance is running")
}

// TestLockIsFreeWhenRunReturns: a command run right after the syncer
// stopped (a restart, `cdc dlq replay`) finds the leader lock free, without
// waiting for the server to end the old lock connection's backend.
func TestLockIsFreeWhenRunReturns(t *testing.T) {
	e := newEnv(t, "")
	stop := e.Start(t)
	require.NoError(t, stop())
	var free bool
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(),
		`SELECT pg_try_advisory_lock(hashtext('cdc-bento:' || 'cdc_bento')::bigint)`).Scan(&free))
	require.True(t, free, "the stopped syncer still holds the leader lock")
}

// TestLosingTheLockStopsAtOnce: when another holder takes the leader lock
// (here the test itself, after cutting the leader's lock connection), the
// old leader stops with an error instead of draining next to the new one.
func TestLosingTheLockStopsAtOnce(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	s := pipeline.New(e.Cfg, pipeline.Options{})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool { ok, _ := s.Ready(); return ok }, 30*time.Second, 20*time.Millisecond)

	// The test queues for the lock before it cuts the leader's lock
	// connection: the server hands the lock to the waiting test as the old
	// backend exits. Asked for after the cut, the lock could go back to the
	// old leader's watch first, and the test would wait for it forever.
	conn, err := e.DB.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	locked := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('cdc-bento:' || 'cdc_bento')::bigint)`)
		locked <- err
	}()
	const thisDB = `locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	require.Eventually(t, func() bool {
		var n int
		err := e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND `+thisDB).Scan(&n)
		return err == nil && n == 1
	}, 30*time.Second, 20*time.Millisecond, "the test never queued for the lock")
	_, err = e.DB.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE granted AND `+thisDB)
	require.NoError(t, err)
	select {
	case err := <-locked:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the test never got the lock")
	}
	select {
	case err := <-done:
		require.ErrorContains(t, err, "lost the leader lock")
	case <-time.After(30 * time.Second):
		t.Fatal("the old leader kept running")
	}
}
