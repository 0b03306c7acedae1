// Package demo runs the whole syncer locally with no accounts: a throwaway
// Postgres from the local server binaries, a local stand-in for Bento, the
// example schema and rules, and a stream of sample customers and orders. It
// owns the demo's setup, load and live display; the syncer itself is the
// real pipeline, unchanged.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pglocal"
	"github.com/pgbento/cdc/internal/pipeline"
)

// Options tune the demo.
type Options struct {
	Out      io.Writer     // where the live display goes
	Logger   *slog.Logger  // the syncer's logs (warnings and errors)
	Duration time.Duration // 0: until ctx ends
	Refresh  time.Duration // display refresh, default 2s
	Rate     float64       // sample writes per second, default 5
	Clear    bool          // clear the screen between refreshes (a terminal)
	Version  string
}

// Run runs the demo until ctx ends or Duration passes, then cleans up
// everything it started. It returns the final summary's error state: an
// error if the stand-in's purchase totals disagree with the database.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	bindir, err := pglocal.FindBindir()
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, "starting a throwaway Postgres (wal_level=logical) ...")
	pg, err := pglocal.Start(ctx, bindir, pglocal.Options{})
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	defer pg.Stop()
	dsn := pg.DSN("postgres")
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, examples.Schema); err != nil {
		return fmt.Errorf("load example schema: %w", err)
	}
	fake := bentotest.New(bentotest.Options{SiteUUID: "demo-site"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	cfg, err := demoConfig(dsn, "http://"+ln.Addr().String())
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Postgres at 127.0.0.1:%d, Bento stand-in at http://%s, rules: examples/rules.yaml\n", pg.Port, ln.Addr())
	return o.run(ctx, cfg, pool, fake)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Refresh == 0 {
		o.Refresh = 2 * time.Second
	}
	if o.Rate == 0 {
		o.Rate = 5
	}
}

// demoConfig is examples/rules.yaml followed by the demo's own source and
// bento sections, so rule line numbers in errors match the example file.
func demoConfig(dsn, bentoURL string) (*config.Config, error) {
	src := examples.Rules + fmt.Sprintf(`
source:
  dsn: %q
  slot: cdc_demo
  publication: cdc_demo
  heartbeat: 5s
bento:
  site_uuid: demo-site
  base_url: %q
  requests_per_minute: 600
  batch_size: 100
shutdown_timeout: 10s
`, dsn, bentoURL)
	return config.Parse("examples/rules.yaml", []byte(src))
}

// run drives the syncer, the sample load and the display. When ctx ends
// (Ctrl-C or Duration) the load stops first; the syncer gets a few seconds to
// deliver the rest, so the final totals compare like with like.
func (o *Options) run(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, fake *bentotest.Bento) error {
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	reg := prometheus.NewRegistry()
	streaming := make(chan struct{})
	syncer := pipeline.New(cfg, pipeline.Options{Logger: o.Logger, Registry: reg, Version: o.Version,
		Ready: func() { close(streaming) }})
	syncCtx, stopSync := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSync()
	syncErr := make(chan error, 1)
	go func() { syncErr <- syncer.Run(syncCtx) }()
	// The load starts once the slot exists: rows written before it would
	// never be streamed, and the totals would never agree.
	select {
	case <-streaming:
	case err := <-syncErr:
		return fmt.Errorf("syncer stopped: %w", err)
	case <-ctx.Done():
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- newLoad(pool, o.Rate).run(ctx) }()
	view := &display{out: o.Out, pool: pool, fake: fake, reg: reg, clear: o.Clear, started: time.Now()}
	t := time.NewTicker(o.Refresh)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case err := <-syncErr:
			return fmt.Errorf("syncer stopped: %w", err)
		case <-ctx.Done():
		case <-t.C:
			view.show(ctx)
		}
	}
	if err := <-loadDone; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sample load: %w", err)
	}
	fmt.Fprintln(o.Out, "\nstopping: letting the syncer deliver what is left ...")
	view.waitCaughtUp(syncCtx, 20*time.Second)
	stopSync()
	if err := <-syncErr; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("syncer: %w", err)
	}
	return view.final(context.Background())
}
