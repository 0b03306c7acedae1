package pipeline

import (
	"golang.org/x/time/rate"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/reconcile"
)

// useReconcile starts, with the other stages, the periodic reconcile
// (reconcile.every; off when 0). It paces its repairs with the syncer's own
// limiter, so reconcile never adds to the Bento budget.
func (st *stages) useReconcile(limiter *rate.Limiter) {
	cfg := st.s.cfg
	if cfg.Reconcile.Every <= 0 || cfg.Ledger == ledger.ModeOff {
		return
	}
	st.s.mu.Lock()
	if st.s.reconcile == nil {
		st.s.reconcile = reconcile.NewLoop(reconcile.Options{
			Pool: st.pool, Rules: cfg.Compiled, Schema: cfg.Source.Schema, Bento: cfg.Bento, Limiter: limiter,
			HTTPClient: st.s.opts.HTTPClient, Version: st.s.opts.Version, Ledger: cfg.Ledger, Logger: st.s.opts.Logger,
			Health: &st.s.repairs,
		}, cfg.Reconcile.Every, cfg.LedgerRetention, st.s.opts.Registry)
	}
	loop := st.s.reconcile
	st.s.mu.Unlock()
	st.g.Go(func() error { loop.Run(st.sendCtx); return nil })
}
