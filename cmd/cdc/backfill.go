package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/ops"
)

func newBackfillCmd() *cobra.Command {
	var (
		table, where string
		restart, all bool
		ratePerMin   float64
	)
	cmd := &cobra.Command{
		Use:   "backfill (--table T | --all)",
		Short: "Send existing rows to Bento as backdated events, through the same rules; resumable",
		Long: "backfill reads a table in primary-key order and sends what the rules (operation \"snapshot\")\n" +
			"make of each row. Progress is saved after every delivered chunk: an interrupted backfill\n" +
			"resumes where it stopped; --restart starts over. It paces itself with --rate requests per\n" +
			"minute (default: half of bento.requests_per_minute) so a running syncer keeps its share.\n" +
			"--where is an SQL condition inserted verbatim into the query (e.g. \"created_at > '2024-01-01'\").",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (table == "") == !all {
				return &exitError{code: exitConfig, err: errors.New("give either --table or --all")}
			}
			if all && where != "" {
				return &exitError{code: exitConfig, err: errors.New("--where filters one table: use it with --table")}
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			tables, err := ops.BackfillTables(cfg, table, all)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			log := newLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)
			pool, err := ops.OpenForBackfill(cmd.Context(), cfg, true)
			if err != nil {
				return err
			}
			defer pool.Close()
			base := backfill.Options{Pool: pool, Rules: cfg.Compiled, Schema: cfg.Source.Schema, Where: where,
				ChunkSize: cfg.Backfill.ChunkSize, Restart: restart, Bento: cfg.Bento,
				Limiter: ops.BackfillLimiter(cfg, ratePerMin, !cmd.Flags().Changed("rate")), Version: version, Logger: log,
				Ledger: ledger.NewRecorder(pool, cfg.Source.Schema, cfg.Ledger, ledger.OriginBackfill, log)}
			for _, t := range tables {
				opts := base
				opts.Table, opts.Progress = t, progressReporter(cmd.OutOrStdout(), log)
				if err := runBackfill(cmd.Context(), cmd.OutOrStdout(), opts); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "the table to backfill (schema.table; schema defaults to public)")
	cmd.Flags().BoolVar(&all, "all", false, "backfill every table the rules use, one after another")
	cmd.Flags().StringVar(&where, "where", "", "SQL condition selecting the rows (inserted verbatim; you own the database)")
	cmd.Flags().BoolVar(&restart, "restart", false, "forget saved progress and start from the first row")
	cmd.Flags().Float64Var(&ratePerMin, "rate", 0, "requests per minute to Bento, 0 = unlimited (default half of bento.requests_per_minute)")
	return cmd
}

func runBackfill(ctx context.Context, out io.Writer, opts backfill.Options) error {
	res, err := backfill.Run(ctx, opts)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w; run the same command again to resume", err)
	}
	if err != nil {
		return err
	}
	switch {
	case res.AlreadyDone:
		fmt.Fprintf(out, "%s: already backfilled (%d rows); use --restart to send it again\n", res.Table, res.Rows)
	default:
		fmt.Fprintf(out, "%s: done, %d rows, %d events, %d rule failures dead-lettered, in %s\n",
			res.Table, res.Rows, res.Events, res.Failures, res.Elapsed.Round(time.Second))
	}
	return nil
}

// progressReporter draws a bar on a terminal, else logs every 5 seconds.
func progressReporter(out io.Writer, log *slog.Logger) backfill.Reporter {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return backfill.NewBarReporter(f)
	}
	return backfill.NewLogReporter(log, 5*time.Second)
}
