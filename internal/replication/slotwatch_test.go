package replication

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/promreg"
)

// A slot that disappears is inactive and retains nothing: the reader's
// gauges must not go on showing what the last refresh saw (the
// CdcSlotInactive alert reads cdc_replication_slot_active). Once the watch
// ends, the gauges say unknown.
func TestSlotGaugesOnMissingSlotAndAfterTheWatch(t *testing.T) {
	db := pgtest.NewDB(t)
	reg := prometheus.NewRegistry()
	r := NewReader(Config{Slot: "gauge_missing", StatusInterval: time.Hour}, NewCheckpointStore(db.Pool, "cdc", "gauge_missing"),
		Options{Registry: reg})
	r.metrics.active.Set(1) // the last refresh saw a walsender streaming; then the slot went away
	r.metrics.retained.Set(4096)
	r.refreshSlotMetrics(context.Background())
	value := func(name string) float64 { v, err := promreg.Value(reg, name); require.NoError(t, err); return v }
	require.Equal(t, 0.0, value("cdc_replication_slot_active"), "a missing slot is not active")
	require.Equal(t, 0.0, value("cdc_replication_retained_wal_bytes"), "a missing slot retains nothing")
	require.Equal(t, -1.0, value("cdc_replication_slot_wal_status"))
	require.True(t, math.IsNaN(value("cdc_replication_lag_bytes")), "no slot, no lag to report")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.slotWatchLoop(ctx) // one refresh, then the watch ends
	require.True(t, math.IsNaN(value("cdc_replication_retained_wal_bytes")), "a stopped reader shows no stale value")
	require.True(t, math.IsNaN(value("cdc_replication_lag_bytes")))
	require.Equal(t, 0.0, value("cdc_replication_slot_active"))
}
