package bento

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func TestSetDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	require.Equal(t, Config{
		Transport: TransportWebhook, BatchSize: 500, BatchBytes: 1 << 20, RequestsPerMinute: 60,
		Concurrency: 1, Timeout: 30 * time.Second, MaxBackoff: 5 * time.Second, QueueSize: 2000, QueueBytes: 32 << 20,
	}, c)
	require.Equal(t, DefaultWebhookURL, c.baseURL())
	c.Transport = TransportEventsAPI
	require.Equal(t, DefaultEventsAPIURL, c.baseURL())
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := Config{SiteUUID: "site"}
		c.SetDefaults()
		return c
	}
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // substrings, one per expected error
	}{
		{"defaults are valid", func(*Config) {}, nil},
		{"unlimited rate", func(c *Config) { c.RequestsPerMinute = 0 }, nil},
		{"missing site", func(c *Config) { c.SiteUUID = "" }, []string{"bento.site_uuid"}},
		{"bad transport", func(c *Config) { c.Transport = "smtp" }, []string{"bento.transport"}},
		{"events api needs keys", func(c *Config) { c.Transport = TransportEventsAPI },
			[]string{"bento.publishable_key", "bento.secret_key"}},
		{"events api with a custom Authorization header", func(c *Config) {
			c.Transport, c.PublishableKey, c.SecretKey = TransportEventsAPI, "pk", "sk"
			c.Headers = map[string]string{"authorization": "Bearer relay"}
		}, []string{"bento.headers.authorization: cannot be set with transport events_api"}},
		{"webhook with a custom Authorization header", func(c *Config) {
			c.Headers = map[string]string{"Authorization": "Bearer relay"}
		}, nil},
		{"relative base url", func(c *Config) { c.BaseURL = "track.example.com" }, []string{"bento.base_url"}},
		{"every bound at once", func(c *Config) {
			c.BatchSize, c.BatchBytes, c.RequestsPerMinute, c.Concurrency = 1001, 10, -1, 0
			c.Timeout, c.MaxBackoff, c.QueueSize = 0, -time.Second, 0
		}, []string{"bento.batch_size", "bento.batch_bytes", "bento.requests_per_minute", "bento.concurrency",
			"bento.timeout", "bento.max_backoff", "bento.queue_size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.modify(&c)
			errs := c.Validate()
			require.Len(t, errs, len(tt.want), "%v", errs)
			for i, w := range tt.want {
				require.True(t, strings.HasPrefix(errs[i].Error(), w), "error %d = %v, want %s", i, errs[i], w)
				var fe *stream.FieldError
				require.ErrorAs(t, errs[i], &fe, "config locates it by its path, not its text")
				key, _, _ := strings.Cut(w, ":")
				require.Equal(t, key, fe.Path)
			}
		})
	}
}
