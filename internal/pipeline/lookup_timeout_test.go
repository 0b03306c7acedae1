package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/logtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

const tierRules = `
defaults:
  lookup_timeout: 200ms
rules:
  - name: tier_on_signup
    table: customers
    on: [insert]
    lookups:
      loyalty:
        sql: select tier from loyalty where customer_id = $1
        args: [new.id]
    event:
      type: signed_up
      email: "= lower(trim(new.email))"
      fields:
        tier: "= lookup.loyalty?.tier"
`

// TestLookupBlockedBehindALock (issue 15.10): a lookup waiting for a lock
// the test holds times out at lookup_timeout and is retried; every timeout
// is counted, the episode is logged once, /readyz says why while it lasts,
// and the row is delivered once the lock is released.
func TestLookupBlockedBehindALock(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	e := newTierEnv(t)
	db, fake := e.DB, e.Fake
	w := startTier(t, e)
	s, reg, logs := w.s, w.reg, w.logs
	t.Cleanup(func() { w.cancel(); require.NoError(t, <-w.done) })
	srv := httptest.NewServer(pipeline.Handler(reg, s))
	t.Cleanup(srv.Close)
	readyz := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	require.Eventually(t, func() bool { code, _ := readyz(); return code == http.StatusOK }, 30*time.Second, 20*time.Millisecond,
		"never ready")

	lock := lockLoyalty(t, e)
	db.Exec(t, `INSERT INTO customers (id, email, first_name) VALUES (1, 'ann@example.com', 'Ann')`)

	const failed = "lookup failed; holding the stream"
	timeouts := func() float64 { return counterValue(t, reg, "cdc_lookup_timeouts_total") }
	require.Eventually(t, func() bool { return timeouts() >= 2 }, 30*time.Second, 20*time.Millisecond,
		"the blocked lookup never timed out twice")
	code, why := readyz()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, why, `lookup: lookup loyalty of rule "tier_on_signup": `)
	require.Contains(t, why, "timed out after 200ms (defaults.lookup_timeout)")
	require.Equal(t, 1, logs.Count(failed), "one log line per episode, not per retry")
	require.Empty(t, fake.Received(), "nothing is delivered past the blocked row")

	require.NoError(t, lock.Rollback(ctx))
	require.Eventually(t, func() bool { return len(fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond,
		"the row was not delivered after the lock was released")
	ev := fake.Received()[0]
	require.Equal(t, "signed_up", ev.Type)
	require.Equal(t, "gold", ev.Fields["tier"])
	require.Eventually(t, func() bool { code, _ := readyz(); return code == http.StatusOK }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, logs.Count(failed))
	require.Equal(t, 1, logs.Count("lookup works again"))
}

// newTierEnv is a test world for tierRules with its loyalty table.
func newTierEnv(t *testing.T) *pipelinetest.Env {
	t.Helper()
	e := pipelinetest.NewEnvWith(t, examples.Schema, tierRules, "")
	e.DB.Exec(t, `CREATE TABLE loyalty (customer_id bigint PRIMARY KEY, tier text NOT NULL);
		INSERT INTO loyalty VALUES (1, 'gold')`)
	return e
}

// tierSyncer is a running syncer with its own registry and logs; cancel
// stops it and done returns what Run returned.
type tierSyncer struct {
	s      *pipeline.Syncer
	reg    *prometheus.Registry
	logs   *logtest.Buffer
	cancel context.CancelFunc
	done   chan error
}

// startTier starts a syncer over e and returns once it streams.
func startTier(t *testing.T, e *pipelinetest.Env) *tierSyncer {
	t.Helper()
	w := &tierSyncer{reg: prometheus.NewRegistry(), logs: &logtest.Buffer{}, done: make(chan error, 1)}
	ready := make(chan struct{})
	w.s = pipeline.New(e.Cfg, pipeline.Options{Registry: w.reg, Logger: slog.New(slog.NewTextHandler(w.logs, nil)),
		Ready: func() { close(ready) }})
	var runCtx context.Context
	runCtx, w.cancel = context.WithCancel(context.Background())
	go func() { w.done <- w.s.Run(runCtx) }()
	select {
	case <-ready:
	case err := <-w.done:
		w.cancel()
		t.Fatalf("syncer exited before streaming: %v", err)
	}
	return w
}

// lockLoyalty holds an exclusive lock on loyalty until the returned
// transaction ends (rolled back at the end of the test at the latest), so
// lookups on it time out.
func lockLoyalty(t *testing.T, e *pipelinetest.Env) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	lock, err := e.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = lock.Rollback(ctx) })
	_, err = lock.Exec(ctx, `LOCK TABLE loyalty IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	return lock
}

// counterValue is the value of an unlabelled counter in reg (0 if absent).
func counterValue(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// TestStopWhileALookupHoldsTheStream: a stop while a failing lookup holds a
// change gives the change up at once (it is not acknowledged, so it is read
// again after a restart) instead of retrying until shutdown_timeout, says
// so once, and the restarted syncer delivers the row (user trial).
func TestStopWhileALookupHoldsTheStream(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	e := newTierEnv(t)
	e.Cfg.ShutdownTimeout = time.Hour // a stop that waited it out would fail the wait below
	w := startTier(t, e)
	defer w.cancel()

	lock := lockLoyalty(t, e)
	e.DB.Exec(t, `INSERT INTO customers (id, email, first_name) VALUES (1, 'ann@example.com', 'Ann')`)
	require.Eventually(t, func() bool { return counterValue(t, w.reg, "cdc_lookup_timeouts_total") >= 1 }, 30*time.Second,
		20*time.Millisecond, "the lookup never timed out")

	w.cancel()
	select {
	case err := <-w.done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the stop waited for the held lookup")
	}
	require.Equal(t, 1, w.logs.Count("stopping while a lookup fails; the held change is read again after a restart"))
	require.Empty(t, e.Fake.Received())

	require.NoError(t, lock.Rollback(ctx))
	stop := e.Start(t)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond,
		"the held row was not delivered after the restart")
	require.Equal(t, "gold", e.Fake.Received()[0].Fields["tier"])
	require.NoError(t, stop())
}
