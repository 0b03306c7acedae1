package reconcile

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Loop runs reconcile periodically inside `cdc run` (reconcile.every) and
// keeps the last report for the status page.
type Loop struct {
	opts   Options
	every  time.Duration
	window time.Duration // each run looks back this far (the ledger's retention)
	m      *loopMetrics

	mu   sync.Mutex
	last *Report
	err  error
}

// NewLoop does no I/O. Its metrics are registered on reg.
func NewLoop(opts Options, every, window time.Duration, reg prometheus.Registerer) *Loop {
	return &Loop{opts: opts.withDefaults(), every: every, window: window, m: newLoopMetrics(reg)}
}

// Run reconciles every l.every (the first run one interval after start,
// when streaming has caught up) until ctx ends. A failed run is logged,
// counted and tried again next time.
func (l *Loop) Run(ctx context.Context) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.once(ctx)
	}
}

func (l *Loop) once(ctx context.Context) {
	o := l.opts
	o.Since = o.Now().Add(-l.window)
	rep, err := Run(ctx, o)
	if ctx.Err() != nil {
		return
	}
	l.mu.Lock()
	l.last, l.err = rep, err
	l.mu.Unlock()
	if err != nil {
		l.m.runs.WithLabelValues("error").Inc()
		o.Logger.Warn("reconcile failed; trying again at the next interval", "component", "reconcile", "error", err)
		return
	}
	l.m.observe(rep)
}

// Last returns the newest report and error (nil, nil before the first run).
func (l *Loop) Last() (*Report, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.err
}

// loopMetrics are reconcile's series on the syncer's registry.
type loopMetrics struct {
	runs     *prometheus.CounterVec
	found    *prometheus.CounterVec
	repaired prometheus.Counter
	drift    prometheus.Gauge
	lastRun  prometheus.Gauge
}

func newLoopMetrics(reg prometheus.Registerer) *loopMetrics {
	m := &loopMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdc_reconcile_runs_total", Help: "Reconcile runs inside cdc run, by outcome (ok, error).",
		}, []string{"outcome"}),
		found: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdc_reconcile_drift_found_total", Help: "Drifted purchase keys found, by kind (missing, differing, currency, unknown).",
		}, []string{"kind"}),
		repaired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdc_reconcile_repaired_total", Help: "Purchases and corrections reconcile sent and Bento accepted.",
		}),
		drift: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdc_reconcile_drift_cents", Help: "Drift found by the last reconcile: sum over customers of |database - ledger|, in cents.",
		}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdc_reconcile_last_run_timestamp_seconds", Help: "When the last successful reconcile finished.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.found, m.repaired, m.drift, m.lastRun)
	}
	return m
}

func (m *loopMetrics) observe(r *Report) {
	m.runs.WithLabelValues("ok").Inc()
	m.found.WithLabelValues(KindMissing).Add(float64(r.Counts.Missing))
	m.found.WithLabelValues(KindDiffering).Add(float64(r.Counts.Differing))
	m.found.WithLabelValues(KindCurrency).Add(float64(r.Counts.Currency))
	m.found.WithLabelValues(KindUnknown).Add(float64(r.Counts.Unknown))
	m.repaired.Add(float64(r.Repaired))
	m.drift.Set(float64(r.Counts.DriftCents))
	m.lastRun.Set(float64(r.Finished.Unix()))
}
