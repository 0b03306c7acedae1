// Package promreg is the one way the syncer's packages register their
// Prometheus series: each package registers its own on the registry it is
// given (cmd/cdc serves it). Several users of one registry (the syncer's
// sender and a backfill's, say) share identical series instead of failing.
// It owns registering series and reading them back (Value), not the
// series or their names.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Register registers c on reg and returns it, or the identical collector
// already registered there. A nil reg leaves c unregistered (a private
// series nobody serves). Any other failure is returned.
func Register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register metrics: %w", err)
}

// Must is Register for series whose names and labels are fixed in code: a
// failure there is a programming error (two series with one name and
// different labels), so it panics, as prometheus.MustRegister does.
func Must[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	c, err := Register(reg, c)
	if err != nil {
		panic(err)
	}
	return c
}

// Value reads the counter or gauge name from g: the series whose labels
// include every pair in labelPairs (name, value, name, value, ...), or the
// first series when none are given; 0 when there is none. It is how tests,
// the demo and the benchmark read a series back.
func Value(g prometheus.Gatherer, name string, labelPairs ...string) (float64, error) {
	families, err := g.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather metrics: %w", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, labelPairs) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue(), nil
			}
			return m.GetGauge().GetValue(), nil
		}
	}
	return 0, nil
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := have[pairs[i]]; !ok || v != pairs[i+1] {
			return false
		}
	}
	return true
}
