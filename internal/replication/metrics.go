package replication

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/promreg"
	"github.com/pgbento/cdc/internal/stream"
)

type metrics struct {
	lag        prometheus.Gauge
	checkpoint prometheus.Gauge
	changes    *prometheus.CounterVec
	byOp       [256]prometheus.Counter // changes' children, resolved once per op (the reader's goroutine only)
	skipped    *prometheus.CounterVec  // row changes of tables no rule reads, by table (unruled.go)
	reconnects prometheus.Counter

	// Refreshed from the catalog on a timer (slotwatch.go).
	retained      prometheus.Gauge
	walStatus     prometheus.Gauge
	active        prometheus.Gauge
	oldestUnacked prometheus.Gauge
}

// newMetrics registers the reader's metrics on reg (nil: unregistered, so
// tests and tools need not care); queued reports the change queue's bytes.
func newMetrics(reg prometheus.Registerer, queued func() float64) *metrics {
	promreg.Must(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cdc_replication_queue_bytes",
		Help: "Estimated bytes of decoded changes queued between the reader and the rules (bounded by source.queue_bytes)."}, queued))
	return &metrics{
		lag: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_lag_bytes",
			Help: "Bytes between the server's current WAL position and the slot's confirmed_flush_lsn, read from the server every status_interval."})),
		checkpoint: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_checkpoint_lsn",
			Help: "The confirmed flush LSN last reported to the server, as a number."})),
		changes: promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdc_replication_changes_total",
			Help: "Changes emitted by the replication reader, by operation."}, []string{"op"})),
		skipped: promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdc_replication_changes_skipped_total",
			Help: "Row changes of a table the publication carries and no rule reads: not sent (add rules, restart, then cdc backfill --table)."}, []string{"table"})),
		reconnects: promreg.Must(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "cdc_replication_reconnects_total",
			Help: "Times the replication connection was lost and re-established."})),
		retained: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_retained_wal_bytes",
			Help: "WAL the slot keeps on the server's disk: current WAL position minus the slot's restart_lsn."})),
		walStatus: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_slot_wal_status",
			Help: "The slot's wal_status: 0 reserved, 1 extended, 2 unreserved (WAL about to be removed), 3 lost (slot invalidated), -1 unknown."})),
		active: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_slot_active",
			Help: "1 when a walsender streams from the slot, else 0."})),
		oldestUnacked: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_oldest_unacked_seconds",
			Help: "Age (since its source commit) of the oldest transaction read but not yet fully acknowledged; 0 when none."})),
	}
}

// changed counts one emitted change of op. The child is looked up once per
// op, not per change (hashing the label was a few percent of the reader's
// CPU), and only when first seen, so /metrics shows the ops that occurred.
func (m *metrics) changed(op stream.Op) {
	c := m.byOp[op]
	if c == nil {
		c = m.changes.WithLabelValues(op.String())
		m.byOp[op] = c
	}
	c.Inc()
}

// slotUnknown marks the slot gauges unknown once the reader stopped
// watching: wal_status -1, not active, and the byte gauges NaN (no alert
// threshold matches it, and a graph shows a gap instead of a stale value).
func (m *metrics) slotUnknown() {
	m.walStatus.Set(-1)
	m.active.Set(0)
	m.lag.Set(math.NaN())
	m.retained.Set(math.NaN())
}
