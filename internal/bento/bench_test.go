package bento_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/stream"
)

// BenchmarkSend measures events per second through the whole sender
// (encode, batch of 500, POST, ack) into a local server that accepts
// everything, and allocations per event.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	defer srv.Close()
	cfg := bento.Config{SiteUUID: site}
	cfg.SetDefaults()
	cfg.BaseURL, cfg.RequestsPerMinute, cfg.BatchSize = srv.URL, 0, 500
	acked := make(chan struct{}, 1)
	var want stream.Position
	ack := func(p stream.Position) {
		if p == want {
			acked <- struct{}{}
		}
	}
	s, err := bento.NewSender(cfg, bento.SenderOptions{Ack: ack, Version: "bench"})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	items := make([]stream.Item, b.N)
	for i := range items {
		items[i] = stream.Item{Kind: stream.ItemEvent, Pos: pos(i), Event: &stream.Event{
			Pos: pos(i), Rule: "orders", Source: "pos", Type: "$purchase",
			Email:   fmt.Sprintf("user%d@example.com", i%1000),
			Details: map[string]any{"unique": map[string]any{"key": i}, "value": map[string]any{"amount": 1999, "currency": "USD"}},
			Date:    time.Now(),
		}}
	}
	want = pos(b.N - 1)
	b.ReportAllocs()
	b.ResetTimer()
	for _, it := range items {
		if err := s.Enqueue(ctx, it); err != nil {
			b.Fatal(err)
		}
	}
	<-acked
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	cancel()
	require.NoError(b, <-done)
}
