package pipeline

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ProgressInterval is how often a running syncer logs its progress at info
// level, while anything happened.
const ProgressInterval = time.Minute

// Progress logs, at info level, one line per interval in which anything
// happened (changes read, requests, events delivered, dead letters), with
// the replication lag, so a healthy syncer is not silent after "streaming"
// and an idle one is. It reads the counts from the metrics registry the
// stages register on, so it adds no bookkeeping to them.
type Progress struct {
	gather   prometheus.Gatherer
	log      *slog.Logger
	interval time.Duration
	last     progressCounts
}

// progressCounts are the totals Progress compares between intervals.
type progressCounts struct {
	changes, requests, delivered, deadLetters float64
}

// NewProgress reports from g every interval. It does no I/O.
func NewProgress(g prometheus.Gatherer, log *slog.Logger, interval time.Duration) *Progress {
	return &Progress{gather: g, log: log.With("component", "progress"), interval: interval}
}

// Run reports every interval until ctx ends.
func (p *Progress) Run(ctx context.Context) {
	p.last, _ = p.counts()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Report()
		}
	}
}

// Report logs what happened since the previous report, if anything did,
// and says whether it logged.
func (p *Progress) Report() bool {
	now, lag := p.counts()
	d := progressCounts{now.changes - p.last.changes, now.requests - p.last.requests,
		now.delivered - p.last.delivered, now.deadLetters - p.last.deadLetters}
	p.last = now
	if d == (progressCounts{}) {
		return false
	}
	args := []any{"interval", p.interval, "changes", int64(d.changes), "requests", int64(d.requests),
		"events_delivered", int64(d.delivered), "dead_letters", int64(d.deadLetters)}
	if !math.IsNaN(lag) { // NaN: no reader watches the slot (replication's slotUnknown)
		args = append(args, "lag_bytes", int64(lag))
	}
	p.log.Info("progress", args...)
	return true
}

// counts sums the counters Progress reports; lag is the current
// replication lag in bytes.
func (p *Progress) counts() (c progressCounts, lag float64) {
	families, _ := p.gather.Gather() // a partial answer still counts what it has
	for _, f := range families {
		sum := sumOf(f)
		switch f.GetName() {
		case "cdc_replication_changes_total":
			c.changes = sum
		case "cdc_bento_requests_total":
			c.requests = sum
		case "cdc_events_delivered_total":
			c.delivered = sum
		case "cdc_dead_letters_total":
			c.deadLetters = sum
		case "cdc_replication_lag_bytes":
			lag = sum
		}
	}
	return c, lag
}

func sumOf(f *dto.MetricFamily) float64 {
	var s float64
	for _, m := range f.GetMetric() {
		s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return s
}
