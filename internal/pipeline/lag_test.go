package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// gauge reads one unlabelled gauge from reg (0 when absent).
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// startWithRegistry runs a syncer whose metrics land in reg.
func (e *env) startWithRegistry(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := pipeline.New(e.Cfg, pipeline.Options{Registry: reg})
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	require.Eventually(t, func() bool { ok, _ := s.Ready(); return ok }, 30*time.Second, 20*time.Millisecond)
}

// TestLagStaysTrueWhileDeliveryIsBlocked: with Bento answering 503 and the
// queues full, the reader stops reading the stream; the lag gauge must still
// follow the server's WAL as writes continue (issue 10.9), and the slot
// gauges say what the server holds.
func TestLagStaysTrueWhileDeliveryIsBlocked(t *testing.T) {
	e := newEnv(t, "")
	e.Cfg.Source.QueueSize, e.Cfg.Bento.QueueSize = 8, 8
	e.Fake.SetFault(&bentotest.Response{Status: 503})
	e.DB.Exec(t, `CREATE TABLE filler (x text)`) // not published: WAL only
	reg := prometheus.NewRegistry()
	e.startWithRegistry(t, reg)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'u' || i || '@example.com', true FROM generate_series(1, 200) i`)
	require.Eventually(t, func() bool { return len(e.Fake.Requests()) > 2 }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return gauge(t, reg, "cdc_replication_lag_bytes") > 0 }, 30*time.Second, 50*time.Millisecond)
	before := gauge(t, reg, "cdc_replication_lag_bytes")

	walBefore := currentWAL(t, e)
	e.DB.Exec(t, `INSERT INTO filler SELECT repeat('x', 200) FROM generate_series(1, 20000)`)
	grown := currentWAL(t, e) - walBefore
	require.Greater(t, grown, 1e6)
	require.Eventually(t, func() bool { return gauge(t, reg, "cdc_replication_lag_bytes") >= before+grown }, 30*time.Second, 50*time.Millisecond,
		"the lag gauge froze while delivery was blocked")
	require.GreaterOrEqual(t, gauge(t, reg, "cdc_replication_retained_wal_bytes"), grown)
	require.Equal(t, 0.0, gauge(t, reg, "cdc_replication_slot_wal_status"), "reserved")
	require.Equal(t, 1.0, gauge(t, reg, "cdc_replication_slot_active"))
	require.Eventually(t, func() bool { return gauge(t, reg, "cdc_replication_oldest_unacked_seconds") > 0 }, 30*time.Second, 50*time.Millisecond)

	e.Fake.SetFault(nil)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 200 }, 60*time.Second, 50*time.Millisecond,
		"delivered %d of 200 once Bento was back", len(e.Fake.Received()))
	require.Eventually(t, func() bool { return gauge(t, reg, "cdc_replication_oldest_unacked_seconds") == 0 }, 30*time.Second, 50*time.Millisecond)
}

// currentWAL is where WAL is being inserted, in bytes (with synchronous_commit
// off, pg_current_wal_lsn() may trail it until the WAL writer catches up).
func currentWAL(t *testing.T, e *env) float64 {
	t.Helper()
	var lsn float64
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn`).Scan(&lsn))
	return lsn
}
