package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/pipeline"
)

func newRunCmd() *cobra.Command {
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
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			syncer := pipeline.New(cfg, pipeline.Options{Logger: log, Registry: reg, Version: version})
			page, closePage, err := newStatusPage(cmd.Context(), cfg, reg, syncer, log)
			if err != nil {
				return err
			}
			defer closePage()
			srv := &http.Server{Addr: cfg.HTTP.Addr, Handler: page.Handler(pipeline.Handler(reg, syncer)), ReadHeaderTimeout: 5 * time.Second}
			ln, err := net.Listen("tcp", cfg.HTTP.Addr)
			if err != nil {
				return err
			}
			go func() { _ = srv.Serve(ln) }()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			log.Info("cdc starting", "version", version, "config", cfg.File, "http", ln.Addr().String(),
				"slot", cfg.Source.Slot, "rules", len(cfg.Rules))
			err = syncer.Run(cmd.Context())
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("cdc stopped", "error", err)
				return err
			}
			log.Info("cdc stopped cleanly")
			return nil
		},
	}
}
