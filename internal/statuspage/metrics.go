package statuspage

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerGauges exports what the page knows that no other package
// exports: whether the syncer is ready and whether delivery is halted. The
// slot as the server sees it (retained WAL, active) is the reader's
// (cdc_replication_retained_wal_bytes, cdc_replication_slot_active).
func registerGauges(d Deps) {
	if d.Registry == nil {
		return
	}
	ready := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cdc_ready", Help: "1 when /readyz answers 200: leader, streaming, no halting Bento error.",
	}, func() float64 { ok, _ := d.Ready(); return boolValue(ok) })
	halted := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cdc_delivery_halted", Help: "1 while delivery is stopped on a halting Bento answer (401/403/404).",
	}, func() float64 { return boolValue(d.Halted != nil && d.Halted()) })
	d.Registry.MustRegister(ready, halted)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
