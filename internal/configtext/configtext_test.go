package configtext_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/configtext"
)

// TestFileParsesToWhatItSays: every key written is read back by the
// loader, zero values take the defaults, and rules first keep their lines.
func TestFileParsesToWhatItSays(t *testing.T) {
	f := configtext.File{
		Rules: examples.Rules, RulesFirst: true,
		DSN: "postgres://u@localhost:5432/db", Slot: "s1", Publication: "p1", Schema: "st",
		Heartbeat: time.Second, StatusInterval: 2 * time.Second, SourceQueueSize: 7,
		SiteUUID: "site-1", BentoURL: "http://127.0.0.1:1", MaxBackoff: 3 * time.Second, Timeout: 4 * time.Second,
		BatchSize: 10, QueueSize: 20, HTTPAddr: "127.0.0.1:0", LogLevel: "warn", LogFormat: "text",
		ShutdownTimeout: 5 * time.Second, Extra: "standby: true",
	}
	src := f.YAML()
	cfg, err := config.Parse("t.yaml", []byte(src))
	require.NoError(t, err, src)
	s := cfg.Source
	require.Equal(t, []any{"postgres://u@localhost:5432/db", "s1", "p1", "st", time.Second, 2 * time.Second, 7},
		[]any{s.DSN, s.Slot, s.Publication, s.Schema, s.Heartbeat, s.StatusInterval, s.QueueSize})
	b := cfg.Bento
	require.Equal(t, []any{"site-1", "http://127.0.0.1:1", 0.0, 3 * time.Second, 4 * time.Second, 10, 20},
		[]any{b.SiteUUID, b.BaseURL, b.RequestsPerMinute, b.MaxBackoff, b.Timeout, b.BatchSize, b.QueueSize})
	require.Equal(t, []any{"127.0.0.1:0", "warn", "text", 5 * time.Second, true},
		[]any{cfg.HTTP.Addr, cfg.Log.Level, cfg.Log.Format, cfg.ShutdownTimeout, cfg.Standby})
	require.Equal(t, examples.Rules, src[:len(examples.Rules)], "the rules keep their line numbers")

	f = configtext.File{DSN: "postgres://localhost/db", SiteUUID: "site-1", Rules: examples.Rules}
	cfg, err = config.Parse("t.yaml", []byte(f.YAML()))
	require.NoError(t, err, f.YAML())
	require.Equal(t, "cdc_bento", cfg.Source.Slot, "a zero value takes the default")
}
