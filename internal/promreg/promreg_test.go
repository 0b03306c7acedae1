package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestRegisterSharesIdenticalSeriesAndRejectsConflicts(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "cdc_test_total", Help: "test"}
	first := Must(reg, prometheus.NewCounterVec(opts, []string{"rule"}))
	second := Must(reg, prometheus.NewCounterVec(opts, []string{"rule"}))
	second.WithLabelValues("a").Inc()
	got, err := Value(reg, "cdc_test_total", "rule", "a")
	require.NoError(t, err)
	require.Equal(t, 1.0, got, "the second user shares the first one's series")
	first.WithLabelValues("b").Add(2)
	got, err = Value(reg, "cdc_test_total", "rule", "b")
	require.NoError(t, err)
	require.Equal(t, 2.0, got)
	got, err = Value(reg, "cdc_test_total", "rule", "c")
	require.NoError(t, err)
	require.Zero(t, got)

	_, err = Register(reg, prometheus.NewCounterVec(opts, []string{"other"}))
	require.Error(t, err, "one name with other labels is a conflict")
	require.Panics(t, func() { Must(reg, prometheus.NewCounterVec(opts, []string{"other"})) })

	unregistered := Must(nil, prometheus.NewCounter(opts))
	unregistered.Inc() // usable without a registry
}
