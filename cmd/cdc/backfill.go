package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ops"
)

func newBackfillCmd() *cobra.Command {
	var (
		table, where         string
		restart, all, detach bool
		ratePerMin           float64
	)
	cmd := &cobra.Command{
		Use:   "backfill (--table T | --all)",
		Short: "Send existing rows to Bento as backdated events, inside the running syncer's stream; resumable",
		Long: "backfill asks the syncer to read a table in primary-key order and send what the rules (operation\n" +
			"\"snapshot\") make of each row, inside its stream: a row changed while its chunk is read is left to\n" +
			"the stream's own events, so Bento never gets an older state after a newer one. The command shows\n" +
			"progress until the syncer finished (Ctrl-C leaves it running; --detach returns at once). Without a\n" +
			"running syncer the request waits for the next `cdc run`. Progress is saved after every delivered\n" +
			"chunk; --restart starts over. --rate paces it in requests per minute (default: half of\n" +
			"bento.requests_per_minute). --where is an SQL condition inserted verbatim into the query; a --where\n" +
			"backfill is a targeted re-send: it runs even on a table backfilled before, from its first matching\n" +
			"row, and leaves the table's backfill progress (cdc status, --all) alone.",
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
			pool, err := ops.OpenForBackfill(cmd.Context(), cfg, true)
			if err != nil {
				return err
			}
			defer pool.Close()
			var perMinute *float64
			if cmd.Flags().Changed("rate") {
				perMinute = &ratePerMin
			}
			reqs := make([]ops.BackfillRequest, 0, len(tables))
			for _, t := range tables {
				reqs = append(reqs, ops.BackfillRequest{Table: t, Where: where, Restart: restart, PerMinute: perMinute})
			}
			queued, err := ops.RequestBackfills(cmd.Context(), pool, cfg.Source.Schema, cfg.Source.Slot, reqs)
			if bad := (*ops.BadWhereError)(nil); errors.As(err, &bad) {
				return &exitError{code: exitConfig, err: err}
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, q := range queued {
				if !q.Running || detach {
					fmt.Fprintf(out, "%s: backfill request %d queued; %s\n", q.Table, q.ID, queuedNote(q.Running))
					continue
				}
				if err := followBackfill(cmd.Context(), out, pool, cfg.Source.Schema, q, where); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "the table to backfill (schema.table; schema defaults to public)")
	cmd.Flags().BoolVar(&all, "all", false, "backfill every table the rules use, one after another")
	cmd.Flags().StringVar(&where, "where", "", "SQL condition selecting the rows (inserted verbatim; you own the database)")
	cmd.Flags().BoolVar(&restart, "restart", false, "forget saved progress and start from the first row (a --where backfill keeps none)")
	cmd.Flags().BoolVar(&detach, "detach", false, "queue the backfill and return at once (cdc status shows it)")
	cmd.Flags().Float64Var(&ratePerMin, "rate", 0, "requests per minute to Bento, 0 = unlimited (default half of bento.requests_per_minute)")
	return cmd
}

func queuedNote(running bool) string {
	if running {
		return "the running syncer runs it; cdc status shows its progress"
	}
	return "no syncer is running: it runs when `cdc run` starts (cdc status lists it)"
}

// followBackfill shows a request's progress until the syncer finished it.
// Ctrl-C stops following, not the backfill. The display starts when the
// syncer runs the request, from the rows it already had (a resumed
// backfill), so the rate and the time left are this run's; a request that
// ends without running (already backfilled) shows none.
func followBackfill(ctx context.Context, out io.Writer, pool *pgxpool.Pool, schema string, q ops.Queued, where string) error {
	p := &requestProgress{rep: progressReporter(out), table: q.Table,
		estimate: func() int64 { return backfill.EstimateRows(ctx, pool, q.Table, where) }}
	r, err := ops.WaitBackfill(ctx, pool, schema, q.ID, time.Second, p.show)
	p.finish()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(out, "%s: stopped following; backfill request %d goes on in the syncer (cdc status shows it)\n", q.Table, q.ID)
		return nil
	}
	if err != nil {
		return err
	}
	return printBackfill(out, r)
}

// requestProgress feeds a request's polled states to a Reporter: it
// starts when the syncer runs the request, from the rows done then.
type requestProgress struct {
	rep      backfill.Reporter
	table    string
	estimate func() int64
	started  bool
}

func (p *requestProgress) show(r backfill.Request) {
	switch {
	case p.started:
		p.rep.Advance(r.RowsDone)
	case r.State == backfill.StateRunning:
		p.rep.Start(p.table, p.estimate(), r.RowsDone)
		p.started = true
	}
}

func (p *requestProgress) finish() {
	if p.started {
		p.rep.Finish()
	}
}

func printBackfill(out io.Writer, r backfill.Request) error {
	if r.State == backfill.StateFailed {
		return fmt.Errorf("backfill of %s failed: %s", r.Table, r.Reason)
	}
	if r.Reason != "" {
		fmt.Fprintf(out, "%s: %s (%d rows)\n", r.Table, r.Reason, r.RowsDone)
		return nil
	}
	took := time.Duration(0)
	if r.Started != nil && r.Finished != nil {
		took = r.Finished.Sub(*r.Started).Round(time.Second)
	}
	fmt.Fprintf(out, "%s: done, %d rows, %d events, %d rows changed meanwhile left to the stream, in %s\n",
		r.Table, r.RowsDone, r.Events, r.Dropped, took)
	return nil
}

// progressReporter draws a bar on a terminal, else writes a plain line
// on stderr every 5 seconds (stdout keeps only the result lines).
func progressReporter(out io.Writer) backfill.Reporter {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return backfill.NewBarReporter(f)
	}
	return backfill.NewLineReporter(os.Stderr, 5*time.Second)
}
