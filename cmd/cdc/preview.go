package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/stream"
)

func newPreviewCmd() *cobra.Command {
	var (
		table, where string
		limit        int64
	)
	cmd := &cobra.Command{
		Use:   "preview --table T",
		Short: "Print, as JSON lines, the events the rules would make of existing rows; sends and writes nothing",
		Long: "preview reads rows of a table in primary-key order, runs the rules on each as a backfill\n" +
			"would (operation \"snapshot\"), and prints every event in Bento's wire format and every rule\n" +
			"failure with its reason, one JSON object a line. Nothing is sent and nothing is written;\n" +
			"rule lookups do run (read-only).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			tables, err := ops.BackfillTables(cfg, table, false)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			if err := checkRules(cmd, cfg); err != nil {
				return err
			}
			pool, err := ops.OpenForBackfill(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer pool.Close()
			opts := backfill.Options{Pool: pool, Rules: cfg.Compiled, Table: tables[0], Where: where,
				ChunkSize: cfg.Backfill.ChunkSize, Logger: newLogger(os.Stderr, cfg.Log.Level, cfg.Log.Format)}
			out := cmd.OutOrStdout()
			var events, failures int
			rows, err := backfill.Preview(cmd.Context(), opts, limit, func(it stream.Item) error {
				if it.Kind == stream.ItemFailure {
					failures++
				} else {
					events++
				}
				return backfill.WritePreviewLine(out, it)
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), previewSummary(tables[0], rows, events, failures))
			return nil
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "the table to preview (required)")
	cmd.Flags().StringVar(&where, "where", "", "SQL condition selecting the rows (inserted verbatim)")
	cmd.Flags().Int64Var(&limit, "limit", 20, "rows to read; 0 = all")
	_ = cmd.MarkFlagRequired("table")
	return cmd
}

// checkRules checks the rules against the live schema as check does; an
// error (a column that does not exist, cents over a float) stops with exit
// code 3 and every finding on stderr.
func checkRules(cmd *cobra.Command, cfg *config.Config) error {
	fs, err := ops.CheckRules(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		printFindings(cmd.ErrOrStderr(), fs)
	}
	if !ops.Runnable(fs) {
		return &exitError{code: exitProblem, err: fmt.Errorf("the rules do not fit the live schema: fix the errors above")}
	}
	return nil
}

// previewSummary is preview's last line; rows that produced nothing get the
// reason that surprises most: only rules firing on snapshot run on existing
// rows (insert, update and delete rules fire on live changes only).
func previewSummary(table string, rows int64, events, failures int) string {
	s := fmt.Sprintf("%s: %d rows read, %d events, %d rule failures (nothing sent)", table, rows, events, failures)
	if rows > 0 && events == 0 && failures == 0 {
		s += "; only rules with snapshot in their on: list run on existing rows (as in a backfill), " +
			"rules on insert, update or delete fire on live changes only"
	}
	return s
}
