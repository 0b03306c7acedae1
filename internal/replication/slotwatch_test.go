package replication

import (
	"context"
	"fmt"
	"math"
	"sync"
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

// setLog records, in order, every Set of the gauges wrapped by recorded.
type setLog struct {
	mu   sync.Mutex
	sets []string
}

type recordedGauge struct {
	prometheus.Gauge
	name string
	log  *setLog
}

func (g recordedGauge) Set(v float64) {
	g.log.mu.Lock()
	g.log.sets = append(g.log.sets, fmt.Sprintf("%s=%g", g.name, v))
	g.log.mu.Unlock()
	g.Gauge.Set(v)
}

func (l *setLog) recorded(name string, g prometheus.Gauge) prometheus.Gauge {
	return recordedGauge{Gauge: g, name: name, log: l}
}

// A refresh of a streamed slot never shows it inactive, not even between
// two updates of the gauge (a scrape, or a test reading the gauges, could
// land there), and it sets the retained WAL before the lag, so whoever
// sees the new lag sees a retained WAL of at least that much.
func TestSlotGaugesOfAStreamedSlotHaveNoTransients(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.g (id int PRIMARY KEY)`, "public.g")
	h.start()
	h.db.Exec(t, `INSERT INTO g VALUES (1)`)
	_, commit := h.tx() // the walsender streams
	h.ack(commit.Pos)

	r := NewReader(h.cfg, h.store, Options{Registry: prometheus.NewRegistry()})
	var log setLog
	r.metrics.active = log.recorded("active", r.metrics.active)
	r.metrics.lag = log.recorded("lag", r.metrics.lag)
	r.metrics.retained = log.recorded("retained", r.metrics.retained)
	r.refreshSlotMetrics(context.Background())
	require.Len(t, log.sets, 3, log.sets)
	require.Regexp(t, `^retained=`, log.sets[0])
	require.Regexp(t, `^lag=`, log.sets[1])
	require.Equal(t, "active=1", log.sets[2])
}
