package pipeline

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestProgressLogsOnlyWhenSomethingHappened: one info line per interval
// with what happened in it and the lag; none for an idle interval
// (issue 15.12).
func TestProgressLogsOnlyWhenSomethingHappened(t *testing.T) {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdc_bento_requests_total"}, []string{"status"})
	delivered := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdc_events_delivered_total"}, []string{"rule"})
	dead := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdc_dead_letters_total"}, []string{"kind"})
	lag := prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdc_replication_lag_bytes"})
	reg.MustRegister(requests, delivered, dead, lag)
	var buf bytes.Buffer
	p := NewProgress(reg, slog.New(slog.NewJSONHandler(&buf, nil)), time.Minute)

	require.False(t, p.Report(), "nothing happened")
	requests.WithLabelValues("200").Add(2)
	delivered.WithLabelValues("a").Add(3)
	delivered.WithLabelValues("b").Add(4)
	dead.WithLabelValues("rule").Inc()
	lag.Set(512)
	require.True(t, p.Report())
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, "progress", line["msg"])
	require.Equal(t, "INFO", line["level"])
	for k, v := range map[string]float64{"requests": 2, "events_delivered": 7, "dead_letters": 1, "lag_bytes": 512, "changes": 0} {
		require.Equal(t, v, line[k], k)
	}
	buf.Reset()
	lag.Set(100)
	require.False(t, p.Report(), "a lag change alone is not activity")
	require.Empty(t, buf.String())
	requests.WithLabelValues("503").Inc()
	require.True(t, p.Report())
	require.Contains(t, buf.String(), `"requests":1,`)

	buf.Reset()
	lag.Set(math.NaN()) // no reader watches the slot any more
	requests.WithLabelValues("200").Inc()
	require.True(t, p.Report())
	require.NotContains(t, buf.String(), "lag_bytes", "an unknown lag is left out, not logged as a number")
}
