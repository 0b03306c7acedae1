package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/reconcile"
)

func newReconcileCmd() *cobra.Command {
	var (
		since, table   string
		dryRun, asJSON bool
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
			opts.Logger = newLogger(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
			if opts.Pool, err = ops.OpenForBackfill(cmd.Context(), cfg, true); err != nil {
				return err
			}
			defer opts.Pool.Close()
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
	cmd.Flags().StringVar(&since, "since", "", "only purchases dated since this time or duration ago (default ledger_retention)")
	cmd.Flags().StringVar(&table, "table", "", "only this table (default: every table with a $purchase rule on snapshot)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report the drift; send and record nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().Float64Var(&ratePerMin, "rate", 0, "requests per minute to Bento, 0 = unlimited (default half of bento.requests_per_minute)")
	return cmd
}
