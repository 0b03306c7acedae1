package statuspage

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/replication"
)

// gauges are what the page knows that no other package exports: whether
// the syncer is ready, whether delivery is halted, and the slot as the
// server sees it (retained WAL), refreshed by Run's sampler.
type gauges struct {
	retained prometheus.Gauge
	active   prometheus.Gauge
}

func newGauges(d Deps) *gauges {
	g := &gauges{
		retained: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdc_slot_retained_wal_bytes", Help: "WAL the replication slot keeps on the server: current WAL end - restart_lsn.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdc_slot_active", Help: "1 when a walsender streams from the slot, 0 when the slot is inactive or missing.",
		}),
	}
	if d.Registry == nil {
		return g
	}
	ready := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cdc_ready", Help: "1 when /readyz answers 200: leader, streaming, no halting Bento error.",
	}, func() float64 { ok, _ := d.Ready(); return boolValue(ok) })
	halted := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cdc_delivery_halted", Help: "1 while delivery is stopped on a halting Bento answer (401/403/404).",
	}, func() float64 { return boolValue(d.Halted != nil && d.Halted()) })
	d.Registry.MustRegister(g.retained, g.active, ready, halted)
	return g
}

// sampleSlot refreshes the slot gauges.
func (p *Page) sampleSlot(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	s, err := replication.ReadSlot(ctx, p.d.Pool, p.d.Config.Source.Slot)
	if err != nil {
		return // the page shows the error; the gauges keep their last value
	}
	if s == nil {
		p.g.retained.Set(0)
		p.g.active.Set(0)
		return
	}
	p.g.retained.Set(float64(s.RetainedBytes))
	p.g.active.Set(boolValue(s.Active))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
