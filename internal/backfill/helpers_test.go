package backfill

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/configtext"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/migrations"
)

// TestMain runs the tests on a throwaway Postgres, then checks that no Run
// left a goroutine behind.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const schema = "cdc"

// newDB is a fresh database with the example schema and the syncer's own.
func newDB(t testing.TB) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	db.Exec(t, examples.Schema)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, migrations.Apply(ctx, conn, schema))
	return db
}

// seedOrders inserts customers and n orders. Order i's status is
// pending, paid, shipped, refunded, cancelled by i % 5; the paid, shipped
// and refunded ones have a paid_at in 2023 that differs per order.
func seedOrders(t testing.TB, db *pgtest.DB, customers, n int) {
	t.Helper()
	db.Exec(t, `INSERT INTO customers (email, first_name, last_name, marketing_opt_in)
		SELECT format('Customer%s@Example.com', g), 'First' || g, 'Last' || g, g % 2 = 0
		FROM generate_series(1, $1) g`, customers)
	db.Exec(t, `INSERT INTO orders (customer_id, status, total, currency, paid_at)
		SELECT 1 + g % $1,
		       (ARRAY['pending','paid','shipped','refunded','cancelled'])[1 + g % 5]::order_status,
		       (g % 1000) + 0.99, 'USD',
		       CASE WHEN g % 5 IN (1, 2, 3) THEN timestamptz '2023-01-01 00:00:00+00' + g * interval '17 minutes' END
		FROM generate_series(1, $2) g`, customers, n)
	db.Exec(t, `ANALYZE orders`)
}

// exampleRules compiles examples/rules.yaml.
func exampleRules(t testing.TB) *rules.Set {
	t.Helper()
	return compileRules(t, examples.Rules)
}

// compileRules loads src (a rules section) the way the config file is
// loaded, around the minimum the other sections need.
func compileRules(t testing.TB, src string) *rules.Set {
	t.Helper()
	f := configtext.File{DSN: "postgres://localhost/unused", SiteUUID: "site", Rules: src}
	cfg, err := config.Parse("rules.yaml", []byte(f.YAML()))
	require.NoError(t, err)
	return cfg.Compiled
}

// fakeBento is a recording Bento; hook, when set, runs before each request
// is answered.
type fakeBento struct {
	*bentotest.Bento
	srv  *httptest.Server
	hook atomic.Pointer[func()]
}

func newFakeBento(t testing.TB) *fakeBento {
	t.Helper()
	f := &fakeBento{Bento: bentotest.New(bentotest.Options{SiteUUID: "site"})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := f.hook.Load(); h != nil {
			(*h)()
		}
		f.Bento.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBento) config() bento.Config { return testBento(f.srv.URL) }

// testBento is the Bento config of every backfill test: unpaced, since
// tests are not, with batches of 250.
func testBento(url string) bento.Config {
	c := bento.Config{SiteUUID: "site", BaseURL: url}
	c.SetDefaults()
	c.RequestsPerMinute = 0
	c.BatchSize = 250
	return c
}

// options are Run options for db, the example rules and f.
func (f *fakeBento) options(db *pgtest.DB, set *rules.Set, table string) Options {
	return Options{Pool: db.Pool, Rules: set, Schema: schema, Table: table, Bento: f.config(),
		HTTPClient: f.srv.Client()}
}

// purchaseKeys counts received $purchase events by details.unique.key.
func purchaseKeys(evs []bentotest.ReceivedEvent) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		if ev.Type != "$purchase" {
			continue
		}
		unique, _ := ev.Details["unique"].(map[string]any)
		out[fmt.Sprint(unique["key"])]++
	}
	return out
}

// paidOrders is SQL's answer: order id -> "paid_at in the wire date format
// amount in cents".
func paidOrders(t testing.TB, db *pgtest.DB) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(),
		`SELECT id::text, to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' ' || (total * 100)::bigint
		FROM orders WHERE paid_at IS NOT NULL`)
	require.NoError(t, err)
	out := map[string]string{}
	for rows.Next() {
		var id, date string
		require.NoError(t, rows.Scan(&id, &date))
		out[id] = date
	}
	require.NoError(t, rows.Err())
	return out
}

func loadState(t testing.TB, db *pgtest.DB, table string) state {
	t.Helper()
	st, found, err := newProgressStore(db.Pool, schema).load(context.Background(), table)
	require.NoError(t, err)
	require.True(t, found, "no progress row for %s", table)
	return st
}

func count(t testing.TB, db *pgtest.DB, sql string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

// lines splits output into non-empty lines.
func lines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })
}
