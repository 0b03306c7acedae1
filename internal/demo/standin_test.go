package demo_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentofake"
	"github.com/pgbento/cdc/internal/demo"
	"github.com/pgbento/cdc/internal/logtest"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

// `cdc demo --stand-in ADDR` serves the stand-in alone: a syncer on one's
// own database delivers to it, and on Ctrl-C it prints what it received
// (U11).
func TestStandInServesASyncerOnOwnDatabase(t *testing.T) {
	e := pipelinetest.NewEnv(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fake := bentofake.New(bentofake.Options{})
	var out logtest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- demo.StandIn(ctx, ln, &out, fake) }()

	e.Cfg.Bento.BaseURL = "http://" + ln.Addr().String()
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 12.34, now())`)
	require.Eventually(t, func() bool { return fake.PurchaseTotals()["ann@example.com"] == 1234 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	require.Empty(t, e.Fake.Received(), "everything went to the stand-in")

	cancel()
	require.NoError(t, <-served)
	s := out.String()
	require.Contains(t, s, "Bento stand-in at http://"+ln.Addr().String())
	require.Contains(t, s, "$purchase: 1")
	require.Contains(t, s, "purchases ann@example.com: 1234 cents")
}
