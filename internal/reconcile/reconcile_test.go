package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/reconcile"
	"github.com/pgbento/cdc/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type env struct {
	db   *pgtest.DB
	fake *bentotest.Server
	cfg  *config.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.NewDB(t)
	db.Exec(t, examples.Schema)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, migrations.Apply(ctx, conn, "cdc"))
	fake := bentotest.NewServer(t)
	cfg, err := config.Parse("test.yaml", []byte(examples.Rules+fmt.Sprintf(`
source:
  dsn: %q
bento:
  site_uuid: site-1
  base_url: %q
  requests_per_minute: 0
  max_backoff: 1s
`, db.DSN, fake.URL)))
	require.NoError(t, err)
	db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true), ('bob@example.com', true), ('cat@example.com', true)`)
	db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES
		(1, 'paid', 10.00, now()), (1, 'paid', 20.00, now()), (2, 'paid', 5.00, now()), (3, 'paid', 7.00, now())`)
	db.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (3, 99.00)`)
	return &env{db: db, fake: fake, cfg: cfg}
}

// backfill delivers every order as the syncer would, recording the ledger.
func (e *env) backfill(t *testing.T) {
	t.Helper()
	_, err := backfill.Run(context.Background(), backfill.Options{
		Pool: e.db.Pool, Rules: e.cfg.Compiled, Schema: "cdc", Table: "orders", Bento: e.cfg.Bento,
		Ledger: ledger.NewRecorder(e.db.Pool, "cdc", ledger.ModePurchases, ledger.OriginBackfill, nil),
	})
	require.NoError(t, err)
}

func (e *env) reconcile(t *testing.T, dry bool) *reconcile.Report {
	t.Helper()
	r, err := reconcile.Run(context.Background(), reconcile.Options{
		Pool: e.db.Pool, Rules: e.cfg.Compiled, Schema: "cdc", DryRun: dry, Bento: e.cfg.Bento,
	})
	require.NoError(t, err)
	return r
}

// dbTotals is what Bento must show per email: the database's paid orders.
func (e *env) dbTotals(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT c.email, (sum(o.total) * 100)::bigint
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
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

// A ledger row deleted, an event the stand-in rejected whose dead letter
// was discarded, and an amount changed by hand: the dry run reports all
// three and changes nothing; the repair makes the stand-in's totals equal
// the database's, and a second run finds no drift.
func TestReconcileReportsAndRepairsDrift(t *testing.T) {
	e := newEnv(t)
	e.fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bob@example.com" })
	e.backfill(t)
	e.fake.RejectWhen(nil)
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.dead_letters`))
	e.db.Exec(t, `DELETE FROM cdc.dead_letters`) // what cdc dlq discard does
	e.db.Exec(t, `DELETE FROM cdc.ledger WHERE unique_key = '1'`)
	e.db.Exec(t, `UPDATE orders SET total = 12.50 WHERE id = 2`) // paid already: no rule fires
	require.NotEqual(t, e.dbTotals(t), e.fake.PurchaseTotals())

	requests, ledgerRows := len(e.fake.Requests()), e.count(t, `SELECT count(*) FROM cdc.ledger`)
	dry := e.reconcile(t, true)
	require.Equal(t, reconcile.Counts{Missing: 2, Differing: 1, DriftCents: 250 + 500}, dry.Counts)
	require.Len(t, dry.Customers, 2)
	require.Equal(t, "ann@example.com", dry.Customers[0].Email)
	require.Equal(t, int64(2250), dry.Customers[0].DBCents)
	require.Equal(t, int64(2000), dry.Customers[0].Sent)
	require.Zero(t, dry.Repaired)
	require.Len(t, e.fake.Requests(), requests, "a dry run sends nothing")
	require.Equal(t, ledgerRows, e.count(t, `SELECT count(*) FROM cdc.ledger`), "a dry run records nothing")
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.reconcile_runs WHERE dry_run`))

	fixed := e.reconcile(t, false)
	require.Equal(t, 3, fixed.Repaired)
	require.Equal(t, e.dbTotals(t), e.fake.PurchaseTotals())
	require.Equal(t, 3, e.count(t, `SELECT count(*) FROM cdc.ledger WHERE origin = 'reconcile'`))
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM cdc.ledger WHERE adjusts = '2' AND amount = -750`))

	again := e.reconcile(t, true)
	require.False(t, again.Drift(), "after the repair: %+v", again.Customers)
	require.Equal(t, again.DBCents, again.Sent)

	// The amount changes again: a second correction, under a key of its own.
	e.db.Exec(t, `UPDATE orders SET total = 11.00 WHERE id = 2`)
	require.Equal(t, 1, e.reconcile(t, false).Repaired)
	require.Equal(t, e.dbTotals(t), e.fake.PurchaseTotals())
}

// A purchase whose row is gone is reported as an unknown key and never
// "repaired".
func TestReconcileReportsKeysTheDatabaseNoLongerHas(t *testing.T) {
	e := newEnv(t)
	e.backfill(t)
	e.db.Exec(t, `DELETE FROM orders WHERE id = 4`)
	r := e.reconcile(t, false)
	require.Equal(t, reconcile.Counts{Unknown: 1, DriftCents: 700}, r.Counts)
	require.Equal(t, "4", r.Customers[0].Items[0].Key)
	require.Zero(t, r.Repaired)
}

// Since limits both sides to purchases dated after it.
func TestReconcileSinceSkipsOlderPurchases(t *testing.T) {
	e := newEnv(t)
	e.backfill(t)
	e.db.Exec(t, `DELETE FROM cdc.ledger`)
	e.db.Exec(t, `UPDATE orders SET paid_at = now() - interval '10 days'`)
	r, err := reconcile.Run(context.Background(), reconcile.Options{Pool: e.db.Pool, Rules: e.cfg.Compiled,
		Schema: "cdc", DryRun: true, Since: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	require.Zero(t, r.Purchases)
	require.False(t, r.Drift())
}
