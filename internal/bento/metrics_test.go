package bento

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestSendersShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{SiteUUID: "site"}
	cfg.SetDefaults()
	a, err := NewSender(cfg, SenderOptions{Registry: reg, Version: "v"})
	require.NoError(t, err)
	b, err := NewSender(cfg, SenderOptions{Registry: reg, Version: "v"})
	require.NoError(t, err, "a backfill's sender registers next to the syncer's")
	require.Same(t, a.metrics.requests, b.metrics.requests)
}
