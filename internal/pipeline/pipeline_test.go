package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
	"github.com/pgbento/cdc/internal/promreg"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// env is one test's world (pipelinetest.Env) with the pipeline tests' checks.
type env struct{ *pipelinetest.Env }

func newEnv(t *testing.T, extra string) *env { return &env{pipelinetest.NewEnv(t, extra)} }

// newEnvWith is newEnv over another schema and rules section.
func newEnvWith(t *testing.T, schema, rules, extra string) *env {
	return &env{pipelinetest.NewEnvWith(t, schema, rules, extra)}
}

// paidTotals is what Bento must show per email: the sum, in cents, of every
// order that was ever paid.
func (e *env) paidTotals(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(), `
		SELECT lower(trim(c.email)), (sum(o.total) * 100)::bigint FROM orders o
		JOIN customers c ON c.id = o.customer_id WHERE o.paid_at IS NOT NULL GROUP BY 1`)
	require.NoError(t, err)
	out := map[string]int64{}
	for rows.Next() {
		var email string
		var cents int64
		require.NoError(t, rows.Scan(&email, &cents))
		out[email] = cents
	}
	require.NoError(t, rows.Err())
	return out
}

func (e *env) waitTotals(t *testing.T) {
	t.Helper()
	want := e.paidTotals(t)
	require.NotEmpty(t, want)
	require.Eventually(t, func() bool {
		got := e.Fake.PurchaseTotals()
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return len(got) == len(want)
	}, 60*time.Second, 50*time.Millisecond, "purchase totals at the stand-in never matched the database")
}

// checkLeaks verifies, after every other cleanup, that the test left no
// goroutine behind.
func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func TestStreamsExampleRulesEndToEnd(t *testing.T) {
	checkLeaks(t)
	e := newEnv(t, "")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, first_name, plan, marketing_opt_in) VALUES
		(' Ann@Example.com', 'Ann', 'free', true), ('bob@example.com', 'Bob', NULL, false)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 19.99, now())`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (2, 5.01)`)
	e.DB.Exec(t, `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = 2`)
	e.DB.Exec(t, `UPDATE customers SET plan = 'pro' WHERE id = 1`)
	e.waitTotals(t)
	require.Equal(t, map[string]int64{"ann@example.com": 1999, "bob@example.com": 501}, e.Fake.PurchaseTotals())

	types := map[string]int{}
	for _, ev := range e.Fake.Received() {
		types[ev.Type]++
	}
	require.Equal(t, 1, types["$subscribe"], "only Ann opted in")
	require.Equal(t, 2, types["$purchase"])
	require.Eventually(t, func() bool {
		types := map[string]int{}
		for _, ev := range e.Fake.Received() {
			types[ev.Type]++
		}
		return types["$tag"] == 1 && types["$remove_tag"] == 1
	}, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, stop())

	// The checkpoint covers everything delivered: a restart sends nothing again.
	before := len(e.Fake.Received())
	stop = e.Start(t)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (2, 'paid', 1.00, now())`)
	e.waitTotals(t)
	require.NoError(t, stop())
	after := e.Fake.Received()
	purchases := 0
	for _, ev := range after[before:] {
		if ev.Type == "$purchase" {
			purchases++
		}
	}
	require.Equal(t, 1, purchases, "after a restart only the new purchase is sent")
}

func TestBadConfigFailsBeforeConnecting(t *testing.T) {
	_, err := config.Parse("bad.yaml", []byte("source:\n  dsn: postgres://nowhere/db\nrules:\n  - name: x\n    table: orders\n    on: [insert]\n    event:\n      type: $purchase\n      email: \"= new.email\"\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "bad.yaml:")
	require.Contains(t, err.Error(), `rule "x"`)
}

// TestFirstStartBackfillsFromTheSlotSnapshot: rows that exist before the
// slot are sent by the backfill, changes after it by the stream, each paid
// order exactly once, even with writes racing the slot's creation.
func TestFirstStartBackfillsFromTheSlotSnapshot(t *testing.T) {
	e := newEnv(t, "backfill:\n  on_create: true\n  chunk_size: 50\n")
	e.DB.Exec(t, `INSERT INTO customers (email, first_name, marketing_opt_in)
		SELECT 'c' || i || '@example.com', 'C' || i, true FROM generate_series(1, 20) i`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at, created_at)
		SELECT 1 + i % 20, 'paid', (i % 50) + 0.99, now() - interval '1 day' * i, now() - interval '1 day' * i
		FROM generate_series(1, 400) i`)
	writeCtx, stopWriting := context.WithCancel(context.Background())
	writes := make(chan error, 1)
	go func() {
		var err error
		// Paced and bounded: the writes must race the slot's creation and
		// the backfill, not bury a loaded test machine in lookups.
		for i := 0; i < 1000 && writeCtx.Err() == nil && err == nil; i++ {
			_, err = e.DB.Pool.Exec(writeCtx, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES ($1, 'paid', 2.50, now())`, 1+i%20)
			time.Sleep(2 * time.Millisecond)
		}
		if writeCtx.Err() != nil {
			err = nil
		}
		writes <- err
	}()
	stop := e.Start(t)
	e.DB.Exec(t, `UPDATE orders SET status = 'paid', paid_at = now() WHERE status = 'pending'`)
	stopWriting()
	require.NoError(t, <-writes)
	if !e.totalsMatchWithin(120 * time.Second) {
		e.explainMissing(t)
	}
	require.NoError(t, stop())

	keys := map[string]int{}
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$purchase" {
			keys[fmt.Sprint(ev.Details["unique"].(map[string]any)["key"])]++
		}
	}
	var paid int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE paid_at IS NOT NULL`).Scan(&paid))
	require.Len(t, keys, paid)
	for k, n := range keys {
		require.Equal(t, 1, n, "order %s sent %d times", k, n)
	}
}

// TestShutdownIsBoundedWhileBentoIsDown: SIGTERM with Bento answering 503
// and a full queue still returns within shutdown_timeout, acknowledging
// nothing that was not delivered.
func TestShutdownIsBoundedWhileBentoIsDown(t *testing.T) {
	e := newEnv(t, "")
	e.Cfg.ShutdownTimeout = 2 * time.Second
	e.Cfg.Bento.QueueSize = 10
	e.Fake.SetFault(&bentotest.Response{Status: 503})
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'u' || i || '@example.com', true FROM generate_series(1, 200) i`)
	require.Eventually(t, func() bool { return len(e.Fake.Requests()) > 2 }, 30*time.Second, 20*time.Millisecond)
	began := time.Now()
	require.NoError(t, stop())
	require.Less(t, time.Since(began), 10*time.Second)
	require.Empty(t, e.Fake.Received())

	// Nothing was acknowledged, so everything comes once Bento is back.
	e.Fake.SetFault(nil)
	stop = e.Start(t)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 200 }, 60*time.Second, 50*time.Millisecond)
	require.NoError(t, stop())
}

// TestInterruptedFirstBackfillResumesEveryTable: a first start stopped while
// the backfill of its first table waits on Bento still backfills every
// table after the restart, not just the one it had started.
func TestInterruptedFirstBackfillResumesEveryTable(t *testing.T) {
	e := newEnv(t, "backfill:\n  on_create: true\n")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || i || '@example.com', true FROM generate_series(1, 5) i`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) SELECT 1 + i % 5, 'paid', 3.00, now() FROM generate_series(1, 20) i`)
	e.Fake.SetFault(&bentotest.Response{Status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.New(e.Cfg, pipeline.Options{}).Run(ctx) }()
	require.Eventually(t, func() bool { return len(e.Fake.Requests()) > 0 }, 30*time.Second, 20*time.Millisecond)
	cancel()
	<-done

	e.Fake.SetFault(nil)
	stop := e.Start(t)
	e.waitTotals(t)
	subscribes := 0
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$subscribe" {
			subscribes++
		}
	}
	require.Equal(t, 5, subscribes)
	require.NoError(t, stop())
}

func (e *env) totalsMatchWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		want := map[string]int64{}
		rows, err := e.DB.Pool.Query(context.Background(), `
			SELECT lower(trim(c.email)), (sum(o.total) * 100)::bigint FROM orders o
			JOIN customers c ON c.id = o.customer_id WHERE o.paid_at IS NOT NULL GROUP BY 1`)
		if err == nil {
			for rows.Next() {
				var email string
				var cents int64
				_ = rows.Scan(&email, &cents)
				want[email] = cents
			}
			rows.Close()
		}
		got := e.Fake.PurchaseTotals()
		ok := len(got) == len(want)
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// explainMissing fails the test naming the paid orders Bento never got.
func (e *env) explainMissing(t *testing.T) {
	t.Helper()
	got := map[string]bool{}
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$purchase" {
			got[ev.UniqueKey()] = true
		}
	}
	rows, err := e.DB.Pool.Query(context.Background(), `SELECT id::text, xmin::text FROM orders WHERE paid_at IS NOT NULL ORDER BY id`)
	require.NoError(t, err)
	var missing []string
	for rows.Next() {
		var id, xmin string
		require.NoError(t, rows.Scan(&id, &xmin))
		if !got[id] {
			missing = append(missing, id+"(xmin "+xmin+")")
		}
	}
	t.Fatalf("purchases missing at the stand-in: %v", missing)
}

// TestFirstBackfillIsCountedInTheMetrics: issue 15.13. The first-time
// backfill's requests count in the syncer's registry like the stream's, so
// /metrics shows every request Bento received.
func TestFirstBackfillIsCountedInTheMetrics(t *testing.T) {
	e := newEnv(t, "backfill:\n  on_create: true\n")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || i || '@example.com', true FROM generate_series(1, 5) i`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) SELECT 1 + i % 5, 'paid', 3.00, now() FROM generate_series(1, 20) i`)
	reg := prometheus.NewRegistry()
	_, stop := e.StartWith(t, pipeline.Options{Registry: reg})
	e.waitTotals(t)
	require.NoError(t, stop())
	got, err := promreg.Value(reg, "cdc_bento_requests_total")
	require.NoError(t, err)
	require.Equal(t, float64(len(e.Fake.Requests())), got, "every request Bento received is counted")
}
