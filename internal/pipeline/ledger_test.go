package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/ledger/ledgertest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// The ledger holds every purchase Bento accepted, with its key, amount,
// position and request, and no position beyond the saved checkpoint.
func TestLedgerRecordsAcceptedPurchasesWithTheCheckpoint(t *testing.T) {
	checkLeaks(t)
	e := newEnv(t, "")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, first_name, marketing_opt_in) VALUES ('ann@example.com', 'Ann', true), ('bob@example.com', 'Bob', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 19.99, now()), (2, 'paid', 5.01, now())`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (1, 7.00)`)
	e.DB.Exec(t, `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = 3`)
	e.waitTotals(t)
	require.NoError(t, stop())

	ctx := context.Background()
	all, err := ledger.Find(ctx, e.DB.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	require.Len(t, all, 3, "purchases mode records the three purchases and not the subscribes")
	for _, en := range all {
		require.Equal(t, "$purchase", en.Type)
		require.Equal(t, ledger.OriginStream, en.Origin)
		require.NotEmpty(t, en.Request)
		require.NotNil(t, en.Position)
		require.NotNil(t, en.UniqueKey)
		require.Equal(t, "USD", *en.Currency)
	}
	ann, err := ledger.Find(ctx, e.DB.Pool, "cdc", ledger.Query{Email: "ANN@example.com"})
	require.NoError(t, err)
	require.Len(t, ann, 2)
	require.Equal(t, int64(1999), *ann[0].Amount)
	require.Equal(t, int64(700), *ann[1].Amount)
	byKey, err := ledger.Find(ctx, e.DB.Pool, "cdc", ledger.Query{Key: "2"})
	require.NoError(t, err)
	require.Len(t, byKey, 1)
	require.Equal(t, "bob@example.com", byKey[0].Email)
	none, err := ledger.Find(ctx, e.DB.Pool, "cdc", ledger.Query{Since: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.Empty(t, none)

	var beyond int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM cdc.ledger l, cdc.checkpoint c
		WHERE (l.commit_lsn, l.change_index, l.event_sub) > (c.commit_lsn, c.change_index, c.event_sub)`).Scan(&beyond))
	require.Zero(t, beyond, "a ledger row beyond the saved checkpoint")
}

// ledger: all records every accepted event, exactly as many as Bento got.
func TestLedgerAllRecordsEveryEvent(t *testing.T) {
	e := newEnv(t, "ledger: all\n")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, first_name, plan, marketing_opt_in) VALUES ('ann@example.com', 'Ann', 'free', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 3.50, now())`)
	e.DB.Exec(t, `UPDATE customers SET plan = 'pro' WHERE id = 1`)
	e.waitTotals(t)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) >= 4 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())

	got, err := ledger.Find(context.Background(), e.DB.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	want := map[string]int{}
	for _, ev := range e.Fake.Received() {
		want[ev.Type]++
	}
	have := map[string]int{}
	for _, en := range got {
		have[en.Type]++
	}
	require.Equal(t, want, have)
}

// ledger: off records nothing.
func TestLedgerOffRecordsNothing(t *testing.T) {
	e := newEnv(t, "ledger: \"off\"\n")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 3.50, now())`)
	e.waitTotals(t)
	require.NoError(t, stop())
	got, err := ledger.Find(context.Background(), e.DB.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	require.Empty(t, got)
}

// The first-start backfill records what it sent, as origin backfill.
func TestLedgerRecordsTheFirstStartBackfill(t *testing.T) {
	e := newEnv(t, "backfill:\n  on_create: true\n")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 1.00, now()), (1, 'paid', 2.00, now())`)
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 4.00, now())`)
	e.waitTotals(t)
	require.NoError(t, stop())
	got, err := ledger.Find(context.Background(), e.DB.Pool, "cdc", ledger.Query{Email: "ann@example.com"})
	require.NoError(t, err)
	origins := map[string]int{}
	for _, en := range got {
		origins[en.Origin]++
	}
	require.Equal(t, map[string]int{ledger.OriginBackfill: 2, ledger.OriginStream: 1}, origins)
}

// reconcile.every repairs a purchase whose ledger row went missing while
// the syncer runs, and counts it.
func TestPeriodicReconcileRepairsInsideRun(t *testing.T) {
	e := newEnv(t, "reconcile:\n  every: 1s\n")
	reg := prometheus.NewRegistry()
	_, stop := e.StartWith(t, pipeline.Options{Registry: reg})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 3.50, now()), (1, 'paid', 1.25, now())`)
	e.waitTotals(t)
	e.waitLedgerKey(t, "1")
	ledgertest.Forget(t, e.DB.Pool, "cdc", "1")
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.DB.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM cdc.ledger WHERE unique_key = '1' AND origin = 'reconcile'`).Scan(&n))
		return n == 1
	}, 60*time.Second, 50*time.Millisecond, "reconcile never re-recorded the purchase")
	require.Eventually(t, func() bool {
		return metricSum(t, reg, "cdc_reconcile_repaired_total") >= 1
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	require.Equal(t, e.paidTotals(t), e.Fake.PurchaseTotals())
}

// metricSum is the sum of every sample of the counter or gauge name.
func metricSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// A reconcile repair inside the syncer that Bento halts (401) makes the
// syncer not ready, with the reason, while it lasts (R7).
func TestHaltedReconcileRepairMakesReadyFail(t *testing.T) {
	e := newEnv(t, "reconcile:\n  every: 1s\n")
	s, stop := e.StartWith(t, pipeline.Options{})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 3.50, now())`)
	e.waitTotals(t)
	ok, why := s.Ready()
	require.True(t, ok, why)
	e.waitLedgerKey(t, "1")
	e.Fake.SetFault(&bentotest.Response{Status: 401, Body: `{"error":"unauthorized"}`})
	ledgertest.Forget(t, e.DB.Pool, "cdc", "1")
	var last string
	shown := assert.Eventually(t, func() bool {
		var ok bool
		ok, last = s.Ready()
		return !ok && strings.HasPrefix(last, "reconcile: ") && strings.Contains(last, "401")
	}, 60*time.Second, 20*time.Millisecond)
	require.True(t, shown, "the halted repair shows in Ready; last answer: %q", last)
	require.NoError(t, stop())
}

// waitLedgerKey waits until the stream's ledger row of the purchase key is
// written: Bento has the event before the acknowledgement (and with it the
// ledger row) is saved, so deleting the row right after delivery could
// delete nothing.
func (e *env) waitLedgerKey(t *testing.T, key string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.DB.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM cdc.ledger WHERE unique_key = $1`, key).Scan(&n))
		return n == 1
	}, 30*time.Second, 20*time.Millisecond, "the ledger row of key %s was never written", key)
}
