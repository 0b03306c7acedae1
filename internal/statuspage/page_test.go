package statuspage_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
	"github.com/pgbento/cdc/internal/reconcile"
	"github.com/pgbento/cdc/internal/statuspage"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// chromium finds the headless browser scripts/ensure-chromium.sh installs.
// Without one the test skips, except under CI=true, where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CDC_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no headless browser: run scripts/ensure-chromium.sh (apt-get install -y chromium) or set CDC_TEST_CHROMIUM")
	}
	t.Skip("no headless browser (chromium); scripts/test.sh installs it")
	return ""
}

// pageText loads url in headless chromium and returns the rendered text of
// the element sel.
func pageText(t *testing.T, browser, url, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#state"))))
	text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return text
}

// env is a running syncer (pipelinetest) with its registry.
type env struct {
	*pipelinetest.Env
	reg    *prometheus.Registry
	syncer *pipeline.Syncer
}

func start(t *testing.T, extra string) *env {
	t.Helper()
	e := &env{Env: pipelinetest.NewEnv(t, extra), reg: prometheus.NewRegistry()}
	e.syncer, _ = e.StartWith(t, pipeline.Options{Registry: e.reg})
	return e
}

// serve serves the page, as cdc run does, and runs its sampler.
func (e *env) serve(t *testing.T) string {
	t.Helper()
	page := statuspage.New(statuspage.Deps{Pool: e.DB.Pool, Config: e.Cfg, Gatherer: e.reg,
		Ready: e.syncer.Ready, Halted: e.syncer.DeliveryHalted, Registry: e.reg, Version: "test"})
	srv := httptest.NewServer(page.Handler(pipeline.Handler(e.reg, e.syncer)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); page.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return srv.URL
}

// gauge reads one gauge from the process registry.
func (e *env) gauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := e.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func (e *env) deadLetters(t *testing.T) int { return e.count(t, "dead_letters") }

func (e *env) count(t *testing.T, table string) int {
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cdc.`+table).Scan(&n))
	return n
}

// The page, rendered by a real browser, shows the state, the slot, the
// rules, the dead letters (emails masked, newest first, with reasons) and
// the last reconcile; then why delivery stopped once Bento refuses the site.
func TestStatusPageInABrowser(t *testing.T) {
	browser := chromium(t)
	e := start(t, "")
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bob@example.com" })
	// The row failure first, so the rejected event is the newest dead letter.
	e.DB.Exec(t, `INSERT INTO customers (id, email, marketing_opt_in) VALUES (100, 'not an email', true)`)
	require.Eventually(t, func() bool { return e.deadLetters(t) == 1 }, 30*time.Second, 20*time.Millisecond)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true), ('bob@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 12.34, now())`)
	require.Eventually(t, func() bool { return e.deadLetters(t) == 2 && e.count(t, "ledger") == 1 },
		30*time.Second, 20*time.Millisecond)
	_, err := reconcile.Run(context.Background(), reconcile.Options{Pool: e.DB.Pool, Rules: e.Cfg.Compiled, Schema: "cdc", DryRun: true})
	require.NoError(t, err)
	url := e.serve(t)

	body := pageText(t, browser, url, "body")
	require.Contains(t, body, "Streaming")
	require.NotContains(t, body, "Not streaming")
	require.Contains(t, body, "Dead letters (2)")
	require.Contains(t, body, "b•••@example.com", "the rejected event's email, masked")
	require.NotContains(t, body, "bob@example.com")
	require.NotContains(t, body, "ann@example.com")
	require.Contains(t, body, "purchase_on_paid")
	require.Contains(t, body, "retained WAL")
	require.Contains(t, body, "0 cents across 0 customers", "the last reconcile's drift")
	dead := pageText(t, browser, url, "#dead-letters tbody tr")
	// The Events API names the rejected event (200 with its index, or 422 alone).
	require.Regexp(t, `rejected \((200|422)\)`, dead, "the newest dead letter comes first")
	require.Equal(t, 1.0, e.gauge(t, "cdc_ready"))
	require.Equal(t, 0.0, e.gauge(t, "cdc_delivery_halted"))
	require.Eventually(t, func() bool { return e.gauge(t, "cdc_replication_retained_wal_bytes") > 0 }, 30*time.Second, 20*time.Millisecond)

	// Bento refuses the site: delivery halts and the page says why.
	e.Fake.SetOptions(bentotest.Options{SiteUUID: "another-site"})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('cat@example.com', true)`)
	require.Eventually(t, func() bool { ok, _ := e.syncer.Ready(); return !ok }, 30*time.Second, 20*time.Millisecond)
	state := pageText(t, browser, url, "#state")
	require.Contains(t, state, "Not streaming")
	require.Contains(t, state, "404")
	require.Equal(t, 0.0, e.gauge(t, "cdc_ready"))
	require.Equal(t, 1.0, e.gauge(t, "cdc_delivery_halted"))
}

// With log.level debug the page shows emails as they are; it never writes.
func TestStatusPageShowsEmailsAtDebugAndIsReadOnly(t *testing.T) {
	e := start(t, "log:\n  level: debug\n")
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bob@example.com" })
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('bob@example.com', true)`)
	require.Eventually(t, func() bool { return e.deadLetters(t) == 1 }, 30*time.Second, 20*time.Millisecond)
	url := e.serve(t)
	page := getPage(t, url)
	require.Contains(t, page, "bob@example.com")
	require.Contains(t, page, `http-equiv="refresh"`)
	css, err := http.Get(url + "/assets/style.css")
	require.NoError(t, err)
	css.Body.Close()
	require.Equal(t, http.StatusOK, css.StatusCode)
	post, err := http.Post(url+"/", "text/plain", nil)
	require.NoError(t, err)
	post.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
	metrics, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	metrics.Body.Close()
	require.Equal(t, http.StatusOK, metrics.StatusCode, "other paths still reach the metrics and health handler")
}

// Backfills queued for the syncer (none runs here) are listed with their
// state and origin.
func TestStatusPageListsQueuedBackfills(t *testing.T) {
	e := &env{Env: pipelinetest.NewEnv(t, ""), reg: prometheus.NewRegistry()}
	e.DB.Migrate(t, "cdc")
	e.syncer = pipeline.New(e.Cfg, pipeline.Options{Registry: e.reg})
	e.DB.Exec(t, `INSERT INTO cdc.backfill_requests (table_name, origin) VALUES ('public.orders', 'resync')`)
	page := getPage(t, e.serve(t))
	require.Contains(t, page, "Running and queued in the syncer")
	require.Regexp(t, `<td>public.orders</td><td>queued</td><td>resync</td>`, page)
}

// getPage fetches the page at url as a plain client (no browser).
func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	return string(b)
}

// While Bento is unreachable the page says delivery is retrying, since when
// and the last error, not plain "Streaming" (U9); once Bento answers again
// it says Streaming.
func TestStatusPageShowsDeliveryRetrying(t *testing.T) {
	e := start(t, "")
	page := statuspage.New(statuspage.Deps{Pool: e.DB.Pool, Config: e.Cfg, Gatherer: e.reg,
		Ready: e.syncer.Ready, Halted: e.syncer.DeliveryHalted, Delivery: e.syncer.Delivery,
		Registry: e.reg, Version: "test"})
	srv := httptest.NewServer(page.Handler(pipeline.Handler(e.reg, e.syncer)))
	t.Cleanup(srv.Close)

	e.Fake.Stop()
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	require.Eventually(t, func() bool { return e.syncer.Delivery().State == "retrying" }, 30*time.Second, 20*time.Millisecond)
	body := getPage(t, srv.URL)
	require.Contains(t, body, "Streaming, delivery retrying")
	require.Regexp(t, `Delivery retrying since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`, body)
	require.Contains(t, body, "last error: ")
	require.Contains(t, body, "connection refused")

	e.Fake.Start(t)
	require.Eventually(t, func() bool { return e.syncer.Delivery().State == "delivering" }, 60*time.Second, 20*time.Millisecond)
	body = getPage(t, srv.URL)
	require.NotContains(t, body, "delivery retrying")
}
