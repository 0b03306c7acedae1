package replication

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/promreg"
)

type metrics struct {
	lag        prometheus.Gauge
	checkpoint prometheus.Gauge
	changes    *prometheus.CounterVec
	reconnects prometheus.Counter
}

// newMetrics registers the reader's metrics on reg (nil: unregistered, so
// tests and tools need not care).
func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		lag: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_lag_bytes",
			Help: "Bytes between the server's WAL end and the confirmed flush LSN."})),
		checkpoint: promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_checkpoint_lsn",
			Help: "The confirmed flush LSN last reported to the server, as a number."})),
		changes: promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdc_replication_changes_total",
			Help: "Changes emitted by the replication reader, by operation."}, []string{"op"})),
		reconnects: promreg.Must(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "cdc_replication_reconnects_total",
			Help: "Times the replication connection was lost and re-established."})),
	}
}
