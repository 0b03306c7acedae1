package reconcile_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/ledger/ledgertest"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
	"github.com/pgbento/cdc/internal/reconcile"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// env is the syncer's test world (pipelinetest) without a running syncer:
// reconcile and a backfill work on the database and the stand-in directly.
type env struct{ *pipelinetest.Env }

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{pipelinetest.NewEnv(t, "")}
	e.DB.Migrate(t, "cdc")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true), ('bob@example.com', true), ('cat@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES
		(1, 'paid', 10.00, now()), (1, 'paid', 20.00, now()), (2, 'paid', 5.00, now()), (3, 'paid', 7.00, now())`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (3, 99.00)`)
	return e
}

// backfill delivers every order as the syncer would, recording the ledger.
func (e *env) backfill(t *testing.T) {
	t.Helper()
	_, err := backfill.Run(context.Background(), backfill.Options{
		Pool: e.DB.Pool, Rules: e.Cfg.Compiled, Schema: "cdc", Table: "orders", Bento: e.Cfg.Bento,
		Ledger: ledger.NewRecorder(e.DB.Pool, "cdc", ledger.ModePurchases, ledger.OriginBackfill, nil),
	})
	require.NoError(t, err)
}

func (e *env) reconcile(t *testing.T, dry bool) *reconcile.Report {
	t.Helper()
	r, err := reconcile.Run(context.Background(), reconcile.Options{
		Pool: e.DB.Pool, Rules: e.Cfg.Compiled, Schema: "cdc", DryRun: dry, Bento: e.Cfg.Bento,
	})
	require.NoError(t, err)
	return r
}

// dbTotals is what Bento must show per email: the database's paid orders.
func (e *env) dbTotals(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(), `SELECT c.email, (sum(o.total) * 100)::bigint
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.paid_at IS NOT NULL GROUP BY 1`)
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

func (e *env) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

// A ledger row deleted, an event the stand-in rejected whose dead letter
// was discarded, and an amount changed by hand: the dry run reports all
// three and changes nothing; the repair makes the stand-in's totals equal
// the database's, and a second run finds no drift.
func TestReconcileReportsAndRepairsDrift(t *testing.T) {
	e := newEnv(t)
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bob@example.com" })
	e.backfill(t)
	e.Fake.RejectWhen(nil)
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.dead_letters`))
	e.DB.Exec(t, `DELETE FROM cdc.dead_letters`) // what cdc dlq discard does
	ledgertest.Forget(t, e.DB.Pool, "cdc", "1")
	e.DB.Exec(t, `UPDATE orders SET total = 12.50 WHERE id = 2`) // paid already: no rule fires
	require.NotEqual(t, e.dbTotals(t), e.Fake.PurchaseTotals())

	requests, ledgerRows := len(e.Fake.Requests()), e.count(t, `SELECT count(*) FROM cdc.ledger`)
	dry := e.reconcile(t, true)
	require.Equal(t, reconcile.Counts{Missing: 2, Differing: 1, Drift: usd(250 + 500), DriftCents: 250 + 500}, dry.Counts)
	require.Len(t, dry.Customers, 2)
	require.Equal(t, "ann@example.com", dry.Customers[0].Email)
	require.Equal(t, usd(2250), dry.Customers[0].DBCents)
	require.Equal(t, usd(2000), dry.Customers[0].Sent)
	require.Zero(t, dry.Repaired)
	require.Len(t, e.Fake.Requests(), requests, "a dry run sends nothing")
	require.Equal(t, ledgerRows, e.count(t, `SELECT count(*) FROM cdc.ledger`), "a dry run records nothing")
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.reconcile_runs WHERE dry_run`))

	fixed := e.reconcile(t, false)
	require.Equal(t, 3, fixed.Repaired)
	require.Equal(t, e.dbTotals(t), e.Fake.PurchaseTotals())
	require.Equal(t, 3, e.count(t, `SELECT count(*) FROM cdc.ledger WHERE origin = 'reconcile'`))
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.ledger WHERE adjusts = '2' AND amount = -750`))

	again := e.reconcile(t, true)
	require.False(t, again.Drift(), "after the repair: %+v", again.Customers)
	require.Equal(t, again.DBCents, again.Sent)

	// The amount changes again: a second correction, under a key of its own.
	e.DB.Exec(t, `UPDATE orders SET total = 11.00 WHERE id = 2`)
	require.Equal(t, 1, e.reconcile(t, false).Repaired)
	require.Equal(t, e.dbTotals(t), e.Fake.PurchaseTotals())
}

// A purchase whose row is gone is reported as an unknown key and never
// "repaired".
func TestReconcileReportsKeysTheDatabaseNoLongerHas(t *testing.T) {
	e := newEnv(t)
	e.backfill(t)
	e.DB.Exec(t, `DELETE FROM orders WHERE id = 4`)
	r := e.reconcile(t, false)
	require.Equal(t, reconcile.Counts{Unknown: 1, Drift: usd(700), DriftCents: 700}, r.Counts)
	require.Equal(t, "4", r.Customers[0].Items[0].Key)
	require.Zero(t, r.Repaired)
}

// Since limits both sides to purchases dated after it.
func TestReconcileSinceSkipsOlderPurchases(t *testing.T) {
	e := newEnv(t)
	e.backfill(t)
	ledgertest.ForgetAll(t, e.DB.Pool, "cdc")
	e.DB.Exec(t, `UPDATE orders SET paid_at = now() - interval '10 days'`)
	r, err := reconcile.Run(context.Background(), reconcile.Options{Pool: e.DB.Pool, Rules: e.Cfg.Compiled,
		Schema: "cdc", DryRun: true, Since: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	require.Zero(t, r.Purchases)
	require.False(t, r.Drift())
}

// Finding U5: a customer whose email changed between purchases is one
// customer: the ledger's rows (sent to the old address) count for the
// database's current customer of their key, so the per-customer and the
// summary drift equal the per-key drift.
func TestReconcileGroupsByTheCurrentCustomerAfterAnEmailChange(t *testing.T) {
	e := newEnv(t)
	e.backfill(t)                                                                   // orders 1 and 2 reach Bento (and the ledger) as ann@example.com
	e.DB.Exec(t, `UPDATE customers SET email = 'ann.new@example.com' WHERE id = 1`) // the $change_email
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 30.00, now())`)
	e.DB.Exec(t, `UPDATE orders SET total = 12.50 WHERE id = 2`)
	require.Equal(t, 2, e.count(t, `SELECT count(*) FROM cdc.ledger WHERE email = 'ann@example.com'`))

	r := e.reconcile(t, true)
	require.Equal(t, reconcile.Counts{Missing: 1, Differing: 1, Drift: usd(3000 - 750), DriftCents: 3000 - 750}, r.Counts)
	require.Len(t, r.Customers, 1, "%+v", r.Customers)
	c := r.Customers[0]
	require.Equal(t, "ann.new@example.com", c.Email)
	require.Equal(t, usd(1000+1250+3000), c.DBCents)
	require.Equal(t, usd(1000+2000), c.Sent)
	var perKey int64
	for _, it := range c.Items {
		perKey += it.DBCents - it.Sent
	}
	require.Equal(t, usd(perKey), c.Drift, "the customer's drift is the sum of its keys'")
}

func usd(cents int64) reconcile.Money { return reconcile.Money{"USD": cents} }

// TestReconcileKeepsCurrenciesApart: a customer who paid in USD and EUR has
// a figure per currency, per customer and in the totals, in the text and
// the JSON report; cents of different currencies are never added.
func TestReconcileKeepsCurrenciesApart(t *testing.T) {
	e := newEnv(t)
	e.DB.Exec(t, `UPDATE orders SET currency = 'EUR' WHERE id = 2`) // ann: 10.00 USD, 20.00 EUR
	e.backfill(t)
	e.DB.Exec(t, `UPDATE orders SET total = 21.00 WHERE id = 2`)

	r := e.reconcile(t, true)
	require.Len(t, r.Customers, 1)
	c := r.Customers[0]
	require.Equal(t, reconcile.Money{"USD": 1000, "EUR": 2100}, c.DBCents)
	require.Equal(t, reconcile.Money{"USD": 1000, "EUR": 2000}, c.Sent)
	require.Equal(t, reconcile.Money{"EUR": 100}, c.Drift)
	require.Equal(t, reconcile.Money{"USD": 1000 + 500 + 700, "EUR": 2100}, r.DBCents)
	require.Equal(t, reconcile.Money{"EUR": 100}, r.Counts.Drift)

	var text strings.Builder
	r.Print(&text)
	require.Contains(t, text.String(), "ann@example.com: database EUR 2100, USD 1000; Bento (ledger) EUR 2000, USD 1000; drift EUR +100 (cents)")
	require.Contains(t, text.String(), "database EUR 2100, USD 2200; ledger EUR 2000, USD 2200 (cents)")
	js, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(js), `"db_cents":{"EUR":2100,"USD":1000}`)
	require.Contains(t, string(js), `"drift":{"EUR":100}`)
}

// Purchase keys 0.1 sent from a padded char(n) column carry the padding,
// while the rows now decode without it: reconcile counts them as the same
// purchase and sends nothing again (no double revenue after an upgrade).
func TestReconcileMatchesKeysSentWithCharPadding(t *testing.T) {
	e := newEnv(t)
	e.backfill(t)
	e.DB.Exec(t, `UPDATE cdc.ledger_batches SET events = replace(events, '"uk":"1"', '"uk":"1  "')`)
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.ledger WHERE unique_key = '1  '`))
	requests := len(e.Fake.Requests())
	r := e.reconcile(t, false)
	require.False(t, r.Drift(), "%+v", r.Customers)
	require.Zero(t, r.Repaired)
	require.Len(t, e.Fake.Requests(), requests)
}
