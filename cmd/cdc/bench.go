package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var o bench.Options
	var syncer string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "End-to-end benchmark: the syncer against pg_recvlogical, peak memory, steady-load latency",
		Long: "bench starts a throwaway Postgres (or uses --dsn), writes a backlog of paid orders while two\n" +
			"slots wait, times pg_recvlogical (pgoutput, to /dev/null) and then this binary's `run` draining it\n" +
			"into a local stand-in for Bento with no pacing, and prints events/s, the ratio and the syncer's\n" +
			"peak RSS next to the targets (>= 0.5x pg_recvlogical, < 64 MiB).\n\n" +
			"  cdc bench                             backlog of 200,000 orders in transactions of 100\n" +
			"  cdc bench --large-tx 1000000          one transaction of 1,000,000 rows (bounded memory)\n" +
			"  cdc bench --steady 500,1500 --duration 30s   live commit-to-delivery latency p50/p99/max\n" +
			"  cdc bench --wide-rows 400 --sink-delay 5s   orders with a 2 MB note behind a slow Bento (byte-bounded queues)\n" +
			"  cdc bench --paced 30000 --rpm 120     catch-up under Bento's cap: request sizes, drain time vs the bound\n" +
			"  cdc bench --outage 5m --rpm 60        a live Bento outage (503) at --outage-rate tx/s, then the catch-up vs the bound\n\n" +
			"Giving --large-tx, --wide-rows, --steady, --paced or --outage runs only those modes unless --backlog is given too. Missing a\n" +
			"target is reported (MISS), not an error; the exit code is non-zero only when a run fails.\n" +
			"See docs/benchmarks.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The stand-in Bento runs in this process and shares the 2 CPUs
			// with the syncer under test: keep its GC as light as run's.
			tuneGC()
			if !cmd.Flags().Changed("backlog") && (o.LargeTx > 0 || o.WideRows > 0 || len(o.Steady) > 0 || o.Paced > 0 || o.Outage > 0) {
				o.Backlog = 0
			}
			o.Syncer = strings.Fields(syncer)
			o.Out = cmd.OutOrStdout()
			_, err := bench.Run(cmd.Context(), o)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DSN, "dsn", "", "use this database (superuser, wal_level=logical) instead of a throwaway server; "+
		"the benchmark creates and drops schemas cdc_bench*, slots cdc_bench*, publication cdc_bench")
	f.StringVar(&o.Bindir, "bindir", "", "directory of the Postgres binaries (default: found like the demo does)")
	f.StringVar(&syncer, "syncer", "", "command that runs the syncer, split on spaces; \"--config FILE\" is appended "+
		"(default: this binary with \"run\"; e.g. another build to compare)")
	f.IntVar(&o.Backlog, "backlog", bench.DefaultBacklog, "paid orders in the backlog mode (0 skips it)")
	f.IntVar(&o.TxSize, "tx-size", bench.DefaultTxSize, "rows per backlog transaction")
	f.IntVar(&o.Repeat, "repeat", 1, "rounds of both consumers over each backlog (each from its own slot), alternating; "+
		"prints the median too")
	f.IntVar(&o.LargeTx, "large-tx", 0, "drain ONE transaction of this many rows (e.g. 1000000)")
	f.IntVar(&o.WideRows, "wide-rows", 0, "drain this many orders with a 2 MB note, one per transaction (e.g. 400)")
	f.DurationVar(&o.SinkDelay, "sink-delay", 0, "the stand-in Bento answers each request this late (e.g. 5s: a slow Bento)")
	f.IntSliceVar(&o.Steady, "steady", nil, "steady-load rates in transactions/s, e.g. 500,1500")
	f.IntVar(&o.Paced, "paced", 0, "catch up a backlog of this many single-row transactions paced at --rpm with batches of 1000 "+
		"(e.g. 30000); prints the request-size histogram and the drain time against backlog / (rpm x 1000)")
	f.IntVar(&o.RPM, "rpm", bench.DefaultPacedRPM, "the paced and outage modes' bento.requests_per_minute")
	f.DurationVar(&o.Outage, "outage", 0, "the stand-in answers 503 this long (e.g. 5m) while --outage-rate single-row "+
		"transactions/s are committed, then answers again; prints the catch-up from that moment against backlog / (rpm x 1000)")
	f.IntVar(&o.OutageRate, "outage-rate", bench.DefaultOutageRate, "transactions/s committed during --outage")
	f.DurationVar(&o.Duration, "duration", bench.DefaultDuration, "length of each steady-load run")
	f.IntVar(&o.Writers, "writers", bench.DefaultWriters, "connections the steady writer commits on")
	f.IntVar(&o.BatchSize, "batch-size", bench.DefaultBatchSize, "the syncer's bento.batch_size (1-1000)")
	f.IntVar(&o.QueueSize, "queue-size", 0, "the syncer's bento.queue_size (default: the syncer's own default)")
	f.StringVar(&o.Ledger, "ledger", "", `the syncer's ledger mode: off, purchases or all (default: the syncer's own, purchases)`)
	f.IntVar(&o.Customers, "customers", bench.DefaultCustomers, "distinct customers (emails) the orders spread over")
	f.DurationVar(&o.Timeout, "timeout", bench.DefaultTimeout, "give up on a drain that takes longer (a failure, exit 1)")
	return cmd
}
