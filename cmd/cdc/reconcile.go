package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/reconcile"
)

func newReconcileCmd() *cobra.Command {
	var (
		since, table   string
		dryRun, asJSON bool
		detach         bool
		ratePerMin     float64
	)
	cmd := &cobra.Command{
		Use:   "reconcile [--since T] [--table T] [--dry-run] [--json]",
		Short: "Compare the database's purchases with what Bento accepted (the ledger); send what is missing",
		Long: "reconcile evaluates the $purchase rules over current rows (their snapshot form, as a backfill\n" +
			"does), compares them with the delivery ledger and prints the drift per customer in cents:\n" +
			"missing purchases, amounts that differ, keys the database no longer has. Without --dry-run it\n" +
			"sends the missing purchases and a correction for each differing amount, paced with --rate\n" +
			"(default half of bento.requests_per_minute), and records them in the ledger. --since (a time or\n" +
			"a duration; default ledger_retention) limits both sides to purchases dated after it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			opts := reconcile.Options{Rules: cfg.Compiled, Schema: cfg.Source.Schema, DryRun: dryRun,
				Bento: cfg.Bento, Version: version, Ledger: cfg.Ledger}
			if since == "" {
				since = cfg.LedgerRetention.String()
			}
			if opts.Since, err = parseSince(since, time.Now()); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			if table != "" {
				if opts.Tables, err = ops.BackfillTables(cfg, table, false); err != nil {
					return &exitError{code: exitConfig, err: err}
				}
			}
			opts.Limiter = ops.BackfillLimiter(cfg, ratePerMin, !cmd.Flags().Changed("rate"))
			opts.Logger = newCommandLogger(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
			if opts.Pool, err = ops.OpenForBackfill(cmd.Context(), cfg, true); err != nil {
				return err
			}
			defer opts.Pool.Close()
			if !dryRun {
				handed, err := handReconcile(cmd, cfg, opts)
				if handed || err != nil {
					return err
				}
			}
			rep, err := reconcile.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				rep.Print(cmd.OutOrStdout())
			}
			if err == nil && rep.Unresolved() > 0 {
				return &exitError{code: exitProblem, err: errors.New("drift remains (see above)")}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "with a running syncer: hand the repair to it and return at once")
	cmd.Flags().StringVar(&since, "since", "", "only purchases dated since this time or duration ago (default ledger_retention)")
	cmd.Flags().StringVar(&table, "table", "", "only this table (default: every table with a $purchase rule on snapshot)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report the drift; send and record nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().Float64Var(&ratePerMin, "rate", 0, "requests per minute to Bento, 0 = unlimited (default half of bento.requests_per_minute)")
	return cmd
}

// handReconcile gives the repair to a running syncer, which runs it with
// its own pacing (issue 13), and follows it unless --detach; handed is
// false when no syncer runs.
func handReconcile(cmd *cobra.Command, cfg *config.Config, opts reconcile.Options) (handed bool, err error) {
	table := ""
	if len(opts.Tables) == 1 {
		table = opts.Tables[0]
	}
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	id, handed, err := ops.HandReconcile(ctx, opts.Pool, cfg.Source.Schema, cfg.Source.Slot, opts.Since, table)
	if err != nil || !handed {
		return false, err
	}
	if detach, _ := cmd.Flags().GetBool("detach"); detach {
		fmt.Fprintf(out, "reconcile request %d handed to the running syncer; cdc status shows the last run\n", id)
		return true, nil
	}
	r, err := ops.WaitBackfill(ctx, opts.Pool, cfg.Source.Schema, id, time.Second, func(backfill.Request) {})
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(out, "stopped following; reconcile request %d goes on in the syncer\n", id)
		return true, nil
	}
	if err != nil {
		return true, err
	}
	if r.State == backfill.StateFailed {
		return true, fmt.Errorf("reconcile in the syncer failed: %s", r.Reason)
	}
	fmt.Fprintf(out, "reconcile ran in the running syncer: %s\n", r.Reason)
	if !strings.HasSuffix(r.Reason, "; 0 unresolved") {
		return true, &exitError{code: exitProblem, err: errors.New("drift remains: run cdc reconcile --dry-run for the details")}
	}
	return true, nil
}
