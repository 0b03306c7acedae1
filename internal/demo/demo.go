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
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento/bentofake"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/configtext"
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
	fake := bentofake.New(bentofake.Options{SiteUUID: "demo-site"})
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
	src := configtext.File{
		Rules: examples.Rules, RulesFirst: true,
		DSN: dsn, Slot: "cdc_demo", Publication: "cdc_demo", Heartbeat: 5 * time.Second,
		SiteUUID: "demo-site", Transport: "events_api",
		PublishableKey: "demo-publishable-key", SecretKey: "demo-secret-key",
		BentoURL: bentoURL, RequestsPerMinute: 600, BatchSize: 100,
		ShutdownTimeout: 10 * time.Second,
	}.YAML()
	return config.Parse("examples/rules.yaml", []byte(src))
}

// run drives the syncer, the sample load and the display. The load starts
// only once the syncer is streaming (its slot exists), so every sample write
// is a change the slot delivers; Duration counts from then. When ctx ends
// (Ctrl-C) or Duration passes, the load stops first and the syncer delivers
// the rest, so the final totals compare like with like.
func (o *Options) run(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, fake *bentofake.Bento) error {
	reg := prometheus.NewRegistry()
	ready := make(chan struct{})
	var once sync.Once
	syncer := pipeline.New(cfg, pipeline.Options{Logger: o.Logger, Registry: reg, Version: o.Version,
		Ready: func() { once.Do(func() { close(ready) }) }})
	syncCtx, stopSync := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSync()
	sr := startSyncer(syncCtx, syncer)
	fmt.Fprintln(o.Out, "waiting for the syncer to create its slot and start streaming ...")
	select {
	case <-sr.done:
		return fmt.Errorf("syncer stopped before streaming: %w", sr.err)
	case <-ctx.Done():
		stopSync()
		<-sr.done
		return nil
	case <-ready:
	}
	view := &display{out: o.Out, pool: pool, fake: fake, reg: reg, rules: ruleNames(cfg), clear: o.Clear, started: time.Now()}
	if err := o.runLoad(ctx, pool, view, sr); err != nil {
		return err
	}
	fmt.Fprintln(o.Out, "\nstopping: letting the syncer deliver what is left ...")
	view.waitCaughtUp(syncCtx, sr.done, catchUpLimit)
	stopSync()
	<-sr.done
	if sr.err != nil && !errors.Is(sr.err, context.Canceled) {
		return fmt.Errorf("syncer: %w", sr.err)
	}
	return view.final(context.Background())
}

// catchUpLimit bounds the wait for the stand-in to agree with the database
// once the load has stopped; past it, the final check names the customers
// that still differ.
const catchUpLimit = time.Minute

// runningSyncer is the syncer's goroutine: done closes when Run returned,
// after err is set.
type runningSyncer struct {
	done chan struct{}
	err  error
}

func startSyncer(ctx context.Context, s *pipeline.Syncer) *runningSyncer {
	r := &runningSyncer{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = s.Run(ctx)
	}()
	return r
}

// runLoad writes the sample load for Duration (or until ctx ends) while the
// display refreshes.
func (o *Options) runLoad(ctx context.Context, pool *pgxpool.Pool, view *display, sr *runningSyncer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- newLoad(pool, o.Rate).run(ctx) }()
	t := time.NewTicker(o.Refresh)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-sr.done:
			cancel()
			<-loadDone
			return fmt.Errorf("syncer stopped: %w", sr.err)
		case <-ctx.Done():
		case <-t.C:
			view.show(ctx)
		}
	}
	if err := <-loadDone; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sample load: %w", err)
	}
	return nil
}
