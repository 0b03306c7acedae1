package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

func (e *env) spawn(t *testing.T) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{s: pipeline.New(e.cfg, pipeline.Options{}), cancel: cancel, done: make(chan struct{})}
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
	e := newEnv(t, "standby: true\n")
	first := e.spawn(t)
	require.Eventually(t, first.ready, 30*time.Second, 20*time.Millisecond)
	second := e.spawn(t)
	require.Eventually(t, second.standby, 20*time.Second, 20*time.Millisecond)

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
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('after-restart@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
}
