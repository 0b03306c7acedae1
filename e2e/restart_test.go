package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pgtest"
)

// TestPostgresRestartMidStream restarts the server while the syncer still
// has a backlog to deliver. The same process reconnects and resumes:
// nothing is lost, nothing is sent twice, and a lookup that failed while
// the server was down was retried, not dead-lettered. Not parallel: the
// restart breaks every connection to the shared server.
func TestPostgresRestartMidStream(t *testing.T) {
	e := newEnv(t, envOptions{BatchSize: 20})
	// Slow requests leave a backlog behind the writer.
	e.fake.SetFault(&bentotest.Response{Delay: 50 * time.Millisecond})
	s := e.startSyncer()
	ctx := context.Background()
	w := newWriter(e.db.Pool, 4)
	require.NoError(t, w.Run(ctx, 3000))
	require.False(t, wantFromDB(t, e.db.Pool).complete(e.fake.Received()), "no backlog left at the restart")

	if restartWedged(t, s) {
		t.Errorf("Postgres could not shut down for a restart while the syncer had a backlog; killed the syncer after 20 s " +
			"to free the server. The walsender waits for the syncer to confirm the WAL it sent; the syncer's reader sits in " +
			"session.send (internal/replication/session.go) on a full change queue, sending status updates but never reading " +
			"the shutdown's keepalives (checkDraining never runs), while the evaluator (internal/pipeline/evaluate.go, rules.EvaluateRetrying) " +
			"retries a lookup against the stopping server, which refuses new connections until the walsender exits.")
		<-s.Done()
		s = e.startSyncer()
	}
	require.NoError(t, w.Run(ctx, 6000))
	e.fake.SetFault(nil)

	want := e.waitDelivered(t, 2*time.Minute)
	require.False(t, s.Exited(), "the syncer exited instead of reconnecting")
	if !t.Failed() { // after a kill, re-sent events are expected
		require.Zero(t, want.check(t, e.fake), "duplicates after a Postgres restart")
		require.Contains(t, s.Logs(), "replication connection lost; reconnecting")
	}
	var deadLetters int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM cdc.dead_letters`).Scan(&deadLetters))
	require.Zero(t, deadLetters, "a restart is not bad data")
}

// restartWedged restarts the shared server. If the restart has not
// finished after 20 s it kills the syncer, which releases a shutdown that
// waits for it, and reports true; the server then comes back for the other
// tests.
func restartWedged(t *testing.T, s *syncer) bool {
	t.Helper()
	restarted := make(chan struct{})
	wedged := make(chan bool, 1)
	go func() {
		select {
		case <-restarted:
			wedged <- false
		case <-time.After(20 * time.Second):
			_ = s.Signal(syscall.SIGKILL)
			wedged <- true
		}
	}()
	pgtest.Restart(t)
	close(restarted)
	return <-wedged
}
