package reconcile

import (
	"context"
	"fmt"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ledger"
)

// Run compares the database's purchases with the ledger and, unless
// DryRun, sends what is missing and the corrections, recording them. The
// run is stored in <schema>.reconcile_runs (a dry run too). A dry run sends
// and records nothing else.
func Run(ctx context.Context, opts Options) (*Report, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	r := &Report{Started: o.Now(), DryRun: o.DryRun, Since: o.Since, Tables: o.Tables, DBCents: Money{}, Sent: Money{}}
	sentKeys, err := loadSent(ctx, o.Pool, o.Schema, o.Since, o.Tables)
	if err != nil {
		return nil, err
	}
	c := newComparison(r, sentKeys)
	for _, t := range o.Tables {
		bo := backfill.Options{Pool: o.Pool, Rules: o.Rules, Table: t, Logger: o.Logger, Now: o.Now}
		if _, err := backfill.Preview(ctx, bo, 0, c.add); err != nil {
			return nil, fmt.Errorf("reconcile %s: %w", t, err)
		}
	}
	c.unknown()
	r.finish(c.items, c.totals)
	if !o.DryRun && len(c.repairs) > 0 {
		done, err := o.send(ctx, c.repairs)
		r.markRepaired(done)
		if err != nil {
			return r, err
		}
	}
	r.Finished = o.Now()
	if err := saveRun(ctx, o.Pool, o.Schema, r); err != nil {
		return r, err
	}
	o.Logger.Info("reconcile done", "component", "reconcile", "dry_run", r.DryRun, "purchases", r.Purchases,
		"customers_with_drift", len(r.Customers), "missing", r.Counts.Missing, "differing", r.Counts.Differing,
		"unknown", r.Counts.Unknown, "drift_cents", r.Counts.DriftCents, "repaired", r.Repaired)
	return r, nil
}

// markRepaired flags the items whose repair Bento accepted.
func (r *Report) markRepaired(done map[string]bool) {
	for i := range r.Customers {
		for j := range r.Customers[i].Items {
			it := &r.Customers[i].Items[j]
			if done[it.Key] && (it.Kind == KindMissing || it.Kind == KindDiffering) {
				it.Repaired = true
				r.Repaired++
			}
		}
	}
}

// recorder is how repairs are recorded.
func (o Options) recorder() *ledger.Recorder {
	return ledger.NewRecorder(o.Pool, o.Schema, o.Ledger, ledger.OriginReconcile, o.Logger)
}
