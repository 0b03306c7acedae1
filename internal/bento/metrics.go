package bento

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/promreg"
)

// metrics are the sender's Prometheus series.
type metrics struct {
	requests    *prometheus.CounterVec
	duration    prometheus.Histogram
	delivered   *prometheus.CounterVec
	deadLetter  *prometheus.CounterVec
	latency     prometheus.Histogram
	queueDepth  prometheus.Gauge
	resent      prometheus.Counter
	unconfirmed prometheus.Counter
	queueBytes  prometheus.Gauge
	coalesced   prometheus.Counter
}

// newMetrics registers the series on reg (nil: unregistered, series nobody
// serves). Several senders may share one registry (the syncer's and a
// backfill's): they then share the series. Names and labels are fixed here,
// so a conflict is a programming error and panics (promreg.Must).
func newMetrics(reg prometheus.Registerer) *metrics {
	var m metrics
	m.requests = promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdc_bento_requests_total", Help: "Requests sent to Bento by HTTP status (\"error\": no response).",
	}, []string{"status"}))
	m.duration = promreg.Must(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "cdc_bento_request_duration_seconds", Help: "Duration of requests to Bento.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}))
	m.delivered = promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdc_events_delivered_total", Help: "Events Bento accepted, by rule.",
	}, []string{"rule"}))
	m.deadLetter = promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdc_dead_letters_total", Help: "Dead letters written, by kind (rule, rejected).",
	}, []string{"kind"}))
	m.latency = promreg.Must(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "cdc_delivery_latency_seconds", Help: "From the source commit to the acknowledgement of its event.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
	}))
	m.queueDepth = promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cdc_bento_queue_depth", Help: "Events and row failures enqueued and not yet acknowledged (commit marks are not counted).",
	}))
	m.resent = promreg.Must(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdc_bento_resent_events_total",
		Help: "Events sent again after an answer that may have accepted them (failed events not named, or a later event of a subscriber whose merged update was rejected): each may arrive twice.",
	}))
	m.unconfirmed = promreg.Must(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdc_bento_webhook_failed_events_total",
		Help: "Events a webhook answer (2xx) reported as failed without naming them; they cannot be dead-lettered.",
	}))
	m.queueBytes = promreg.Must(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cdc_bento_queue_bytes", Help: "Estimated bytes of items enqueued and not yet acknowledged (bounded by bento.queue_bytes).",
	}))
	m.coalesced = promreg.Must(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdc_bento_events_coalesced_total",
		Help: "$update_fields events Bento accepted merged into another one for the same subscriber (bento.coalesce_fields), not on their own.",
	}))
	return &m
}
