package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pipeline"
)

func newRunCmd(notices *signalNotices) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the syncer: stream, deliver, checkpoint (SIGTERM drains and exits 0)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			tuneGC()
			log := newLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
			notices.use(log)
			// From here on every outcome is a log line: a plain "cdc: ..."
			// after it would break JSON logs.
			err = runSyncer(cmd.Context(), cfg, log)
			if err != nil {
				log.Error("cdc stopped", "error", err)
				return &exitError{code: exitFailure, err: err, logged: true}
			}
			log.Info("cdc stopped cleanly")
			return nil
		},
	}
}

// runSyncer serves the status page, /metrics and the health endpoints, logs progress and
// runs the syncer until ctx ends.
func runSyncer(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	syncer := pipeline.New(cfg, pipeline.Options{Logger: log, Registry: reg, Version: version})
	page, closePage, err := newStatusPage(ctx, cfg, reg, syncer, log)
	if err != nil {
		return err
	}
	defer closePage()
	srv := &http.Server{Addr: cfg.HTTP.Addr, Handler: page.Handler(pipeline.Handler(reg, syncer)), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on http.addr %s (status page, metrics and health): %w", cfg.HTTP.Addr, err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	progressCtx, stopProgress := context.WithCancel(ctx)
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		pipeline.NewProgress(reg, log, pipeline.ProgressInterval).Run(progressCtx)
	}()
	defer func() { stopProgress(); <-progressDone }()
	log.Info("cdc starting", "version", version, "config", cfg.File, "http", ln.Addr().String(),
		"slot", cfg.Source.Slot, "rules", len(cfg.Rules))
	err = syncer.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
