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

// TestStatusShowsWhyTheSyncerIsNotReady: cdc status asks the running
// syncer's /readyz at http.addr and shows its answer, so a halt (here a
// 401; a checkpoint save that keeps failing the same way) is visible there
// too; with no syncer it says nothing answered.
func TestStatusShowsWhyTheSyncerIsNotReady(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	s, stop := e.StartWith(t, pipeline.Options{})
	defer func() { require.NoError(t, stop()) }()
	srv := httptest.NewServer(pipeline.Handler(prometheus.NewRegistry(), s))
	e.Cfg.HTTP.Addr = strings.TrimPrefix(srv.URL, "http://")
	// Streaming has started (StartWith); /readyz turns ok once the reader
	// has its connection, a moment later.
	var st *ops.Status
	require.Eventually(t, func() bool {
		var err error
		st, err = ops.ReadStatus(ctx, e.Cfg)
		require.NoError(t, err)
		return st.Syncer.Ready
	}, 30*time.Second, 50*time.Millisecond, "the syncer never answered ready")
	require.Equal(t, "ok", st.Syncer.Reason)
	require.Empty(t, st.Syncer.DeliveryRetrying)

	e.Fake.SetFault(&bentotest.Response{Status: 401, Body: `{"error":"unauthorized"}`})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true)`)
	require.Eventually(t, func() bool {
		st, err := ops.ReadStatus(ctx, e.Cfg)
		require.NoError(t, err)
		return !st.Syncer.Ready && strings.Contains(st.Syncer.Reason, "401")
	}, 30*time.Second, 50*time.Millisecond)

	srv.Close()
	st, err := ops.ReadStatus(ctx, e.Cfg)
	require.NoError(t, err)
	require.False(t, st.Syncer.Ready)
	require.True(t, strings.HasPrefix(st.Syncer.Reason, "no answer: "), st.Syncer.Reason)
	e.Fake.SetFault(nil)
}
