package pipeline

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pgbento/cdc/internal/ops"
)

// Handler serves /metrics from gatherer, /healthz (the process is alive)
// and /readyz (leader, streaming, no halting Bento error; the header
// ops.OldestUnackedHeader carries the age of the oldest change waiting for
// Bento, for cdc status's lag, and ops.DeliveryRetryingHeader a delivery
// that keeps retrying, which leaves the syncer ready).
func Handler(gatherer prometheus.Gatherer, s *Syncer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := s.Ready()
		w.Header().Set(ops.OldestUnackedHeader, strconv.FormatFloat(s.OldestUnacked().Seconds(), 'f', 3, 64))
		if d := s.Delivery(); d.State == "retrying" && s.leading() { // a former leader's sender is not this syncer's delivery
			w.Header().Set(ops.DeliveryRetryingHeader, ops.RetryingSince(d.Since, d.LastError))
		}
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = w.Write([]byte(why + "\n"))
	})
	return mux
}
