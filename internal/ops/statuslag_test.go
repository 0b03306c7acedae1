package ops_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline"
)

// An idle, caught-up syncer's lag seconds do not grow with the age of its
// last delivery (U10): while a reader is active they are the server's flush
// lag; only a slot nobody reads, behind the WAL, shows the checkpoint's age.
func TestStatusLagSecondsOfIdleSyncerDoNotGrow(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ok@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	// The last delivery an hour ago, as on a syncer idle for an hour.
	e.DB.Exec(t, `UPDATE cdc.checkpoint SET updated_at = now() - interval '1 hour'`)
	e.DB.Exec(t, `SELECT pg_logical_emit_message(false, 'test', 'unpublished WAL')`)
	require.Eventually(t, func() bool {
		st, err := ops.ReadStatus(ctx, e.Cfg)
		return err == nil && st.Slot != nil && st.Slot.Active
	}, 30*time.Second, 20*time.Millisecond)
	st, err := ops.ReadStatus(ctx, e.Cfg)
	require.NoError(t, err)
	require.Less(t, st.LagSeconds, 60.0, "an active reader's lag is the server's flush lag, not the checkpoint's age")

	require.NoError(t, stop())
	e.DB.Exec(t, `UPDATE cdc.checkpoint SET updated_at = now() - interval '1 hour'`)
	// The test server runs with synchronous_commit off: a plain commit may
	// still sit in the WAL buffers, below pg_current_wal_lsn(), when status
	// reads it. This one is written before the commit returns.
	e.DB.Exec(t, `BEGIN; SET LOCAL synchronous_commit = on;
		INSERT INTO customers (email, marketing_opt_in) VALUES ('later@example.com', true); COMMIT`)
	st, err = ops.ReadStatus(ctx, e.Cfg)
	require.NoError(t, err)
	require.False(t, st.Slot.Active)
	require.Positive(t, st.Slot.LagBytes)
	require.Greater(t, st.LagSeconds, 3000.0, "a slot nobody reads: the checkpoint's age")
}

// While the syncer confirms nothing (Bento answers 503, a lookup holds the
// stream), the server's flush lag keeps its last small value: cdc status
// raises the lag to the syncer's age of its oldest unacknowledged change,
// so a stuck syncer does not show as caught up; once delivered, it drops.
func TestStatusLagSecondsGrowWhileDeliveryIsStuck(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	s, stop := e.StartWith(t, pipeline.Options{})
	defer func() { require.NoError(t, stop()) }()
	srv := httptest.NewServer(pipeline.Handler(prometheus.NewRegistry(), s))
	defer srv.Close()
	e.Cfg.HTTP.Addr = strings.TrimPrefix(srv.URL, "http://")

	e.Fake.SetFault(&bentotest.Response{Status: 503, Body: `{"error":"down"}`})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('stuck@example.com', true)`)
	var st *ops.Status
	require.Eventually(t, func() bool {
		var err error
		st, err = ops.ReadStatus(ctx, e.Cfg)
		require.NoError(t, err)
		return st.Slot != nil && st.Slot.Active && st.LagSeconds >= 3
	}, 30*time.Second, 100*time.Millisecond, "the lag of a syncer stuck on 503 did not grow")
	require.GreaterOrEqual(t, st.LagSeconds, st.Syncer.OldestUnackedSeconds)
	require.Regexp(t, `^since \d{4}-\d\d-\d\dT\S+Z, last error: .*503`, st.Syncer.DeliveryRetrying, "cdc status shows the retrying too")
	require.Empty(t, e.Fake.Received())

	e.Fake.SetFault(nil)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		st, err := ops.ReadStatus(ctx, e.Cfg)
		require.NoError(t, err)
		return st.Syncer.OldestUnackedSeconds == 0 && st.LagSeconds < 3 && st.Syncer.DeliveryRetrying == ""
	}, 30*time.Second, 100*time.Millisecond, "the lag stayed up after delivery")
}
