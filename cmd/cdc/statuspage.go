package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/statuspage"
)

// newStatusPage wires the page `cdc run` serves at /: a small pool of its
// own (it connects on the first view), the process's metrics and the
// syncer's readiness. close stops its sampler and closes the pool.
func newStatusPage(ctx context.Context, cfg *config.Config, reg *prometheus.Registry, s *pipeline.Syncer,
	log *slog.Logger) (*statuspage.Page, func(), error) {
	pc, err := pgxpool.ParseConfig(cfg.Source.DSN)
	if err != nil {
		return nil, nil, errors.New("status page: invalid connection string") // the error may quote the DSN
	}
	pc.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, nil, errors.New("status page: invalid connection string")
	}
	page := statuspage.New(statuspage.Deps{Pool: pool, Config: cfg, Gatherer: reg, Ready: s.Ready,
		OldestUnacked: s.OldestUnacked, Halted: s.DeliveryHalted, Delivery: s.Delivery, Registry: reg, Version: version, Logger: log})
	sampleCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { page.Run(sampleCtx) })
	return page, func() { stop(); wg.Wait(); pool.Close() }, nil
}
