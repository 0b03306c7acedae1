package bento_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/stream"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var goldenClock = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func purchase() stream.Item {
	p := stream.Position{CommitLSN: 0x16B374D848, EndLSN: 0x16B374D878, Index: 0, Sub: 1}
	return stream.Item{Kind: stream.ItemEvent, Pos: p, Event: &stream.Event{
		Pos: p, Rule: "order_paid", Table: "public.orders", Key: "id=1001", Source: "pos",
		Type: "$purchase", Email: "ann@example.com",
		Fields: map[string]any{"first_name": "Ann", "vip": true},
		Details: map[string]any{
			"unique": map[string]any{"key": "order-1001"},
			"value":  map[string]any{"amount": int64(4999), "currency": "USD"},
			"cart": map[string]any{"items": []any{
				map[string]any{"sku": "TEA-1", "price": stream.Numeric("19.99"), "quantity": int64(2)},
			}},
		},
		Date: time.Date(2026, 11, 27, 9, 59, 58, 123456789, time.FixedZone("CET", 3600)),
	}}
}

func subscribe() stream.Item {
	p := stream.Position{CommitLSN: 0x16B374D900, EndLSN: 0x16B374D930, Index: 0, Sub: 1}
	return stream.Item{Kind: stream.ItemEvent, Pos: p, Event: &stream.Event{
		Pos: p, Rule: "new_customer", Table: "public.customers", Key: "id=7",
		Type: "$subscribe", Email: "bob@example.com", Fields: map[string]any{"first_name": "Bob"},
	}}
}

// The request for a purchase and a subscribe is exactly what Bento
// documents, on both transports, with user agent, auth and signature.
func TestGoldenRequests(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*bento.Config)
		opts bentotest.Options
	}{
		{"webhook", func(c *bento.Config) {
			c.SigningSecret = "whsec"
			c.Headers = map[string]string{"Authorization": "Bearer relay-token"}
		}, bentotest.Options{SiteUUID: site, SigningSecret: "whsec",
			Headers: map[string]string{"Authorization": "Bearer relay-token"}}},
		{"events_api", func(c *bento.Config) {
			c.Transport, c.PublishableKey, c.SecretKey, c.SigningSecret = bento.TransportEventsAPI, "pk_1", "sk_1", "whsec"
		}, bentotest.Options{SiteUUID: site, PublishableKey: "pk_1", SecretKey: "sk_1", SigningSecret: "whsec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			h := newHarness(t, options{cfg: tt.cfg, noRun: true,
				fake: func(s *bentotest.Server) { s.SetOptions(tt.opts) }})
			bento.SetClock(h.sender, func() time.Time { return goldenClock })
			h.run()
			for i, it := range []stream.Item{purchase(), subscribe()} {
				h.enqueue(it)
				h.drain()
				req := h.bento.Requests()[i]
				require.Equal(t, 200, req.Status, "the fake verified auth and signature")
				name := tt.name + "_" + strings.TrimPrefix(it.Event.Type, "$")
				golden(t, name+".json", string(req.Body)+"\n")
				golden(t, name+".headers", headerDump(req)+"\n")
			}
		})
	}
}

// headerDump renders the request line and the headers Bento and relays
// care about.
func headerDump(r bentotest.Request) string {
	target := r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	lines := []string{r.Method + " " + target}
	for _, k := range []string{"Content-Type", "User-Agent", "Authorization", "X-Cdc-Timestamp", "X-Cdc-Signature"} {
		if v := r.Header.Get(k); v != "" {
			lines = append(lines, k+": "+v)
		}
	}
	return strings.Join(lines, "\n")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}
