package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/promreg"
	"github.com/pgbento/cdc/internal/stream"
)

type metrics struct {
	ruleEvents     *prometheus.CounterVec
	lookupTimeouts prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		ruleEvents: promreg.Must(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdc_rule_events_total",
			Help: "Rule outcomes per rule: emitted (an event to deliver) or dead_letter (a row the rule could not turn into an event).",
		}, []string{"rule", "outcome"})),
		lookupTimeouts: promreg.Must(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdc_lookup_timeouts_total",
			Help: "Lookup attempts the server cancelled at defaults.lookup_timeout (statement or lock timeout); each is retried.",
		})),
	}
}

func (m *metrics) countItem(it stream.Item) {
	switch it.Kind {
	case stream.ItemEvent:
		m.ruleEvents.WithLabelValues(it.Event.Rule, "emitted").Inc()
	case stream.ItemFailure:
		m.ruleEvents.WithLabelValues(it.Failure.Rule, "dead_letter").Inc()
	}
}
