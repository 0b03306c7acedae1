package pipeline

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/reconcile"
	"github.com/pgbento/cdc/internal/stream"
)

// ackFunc is the reader's acknowledgement, also told to the in-stream
// backfill, which saves a chunk's progress once its items are acknowledged.
func (st *stages) ackFunc() stream.AckFunc {
	ack := st.reader.AckFunc(st.sendCtx)
	return func(p stream.Position) {
		ack(p)
		st.windows.Acked(p)
	}
}

// useBackfills makes the driver that runs `cdc backfill` requests inside
// this syncer's stream, paced like a separate backfill was: by default at
// half of requests_per_minute, and only while the queue has room.
func (st *stages) useBackfills(limiter *rate.Limiter) {
	cfg := st.s.cfg
	st.backfills = backfill.NewDriver(backfill.StreamOptions{
		Pool: st.pool, Schema: cfg.Source.Schema, Windows: st.windows, ChunkSize: cfg.Backfill.ChunkSize,
		Poll: st.s.opts.BackfillPoll, Pending: st.sender.Pending, QueueSize: cfg.Bento.QueueSize,
		BatchSize: cfg.Bento.BatchSize, PerMinute: cfg.Bento.RequestsPerMinute / 2,
		Logger: st.s.opts.Logger, Hooks: st.s.opts.BackfillHooks, SaveTimeout: cfg.ShutdownTimeout,
		Reconcile: func(ctx context.Context, r backfill.Request) (string, error) {
			return st.reconcileRequest(ctx, r, limiter)
		},
	})
}

// reconcileRequest runs `cdc reconcile`'s repair for it (issue 13: through
// the running syncer), paced by the syncer's own limiter so the repairs
// never add to the Bento budget, and summarises the run.
func (st *stages) reconcileRequest(ctx context.Context, r backfill.Request, limiter *rate.Limiter) (string, error) {
	cfg := st.s.cfg
	opts := reconcile.Options{Pool: st.pool, Rules: cfg.Compiled, Schema: cfg.Source.Schema, Bento: cfg.Bento,
		Limiter: limiter, HTTPClient: st.s.opts.HTTPClient, Version: st.s.opts.Version, Ledger: cfg.Ledger,
		Logger: st.s.opts.Logger, Health: &st.s.repairs}
	if r.Since != nil {
		opts.Since = *r.Since
	}
	if r.Table != "" {
		opts.Tables = []string{r.Table}
	}
	rep, err := reconcile.Run(ctx, opts)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("repaired %d; found %d missing, %d differing, %d unknown keys, %d cents of drift; %d unresolved",
		rep.Repaired, rep.Counts.Missing, rep.Counts.Differing, rep.Counts.Unknown, rep.Counts.DriftCents, rep.Unresolved()), nil
}
