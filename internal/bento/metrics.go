package bento

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the sender's Prometheus series.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   prometheus.Histogram
	delivered  *prometheus.CounterVec
	deadLetter *prometheus.CounterVec
	latency    prometheus.Histogram
	queueDepth prometheus.Gauge
}

// newMetrics registers the series on reg (nil: a private registry, so tests
// and replay can build senders freely).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdc_bento_requests_total", Help: "Requests sent to Bento by HTTP status (\"error\": no response).",
		}, []string{"status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cdc_bento_request_duration_seconds", Help: "Duration of requests to Bento.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdc_events_delivered_total", Help: "Events Bento accepted, by rule.",
		}, []string{"rule"}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdc_dead_letters_total", Help: "Dead letters written, by kind (rule, rejected).",
		}, []string{"kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cdc_delivery_latency_seconds", Help: "From the source commit to the acknowledgement of its event.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdc_bento_queue_depth", Help: "Items enqueued and not yet acknowledged.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.delivered, m.deadLetter, m.latency, m.queueDepth} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register bento metrics: %w", err)
		}
	}
	return m, nil
}
