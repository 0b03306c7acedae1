package bench

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pglocal"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// syncerEnv makes this test binary act as the syncer: Run starts it as a
// subprocess, exactly as `cdc bench` starts `cdc run`.
const syncerEnv = "CDC_BENCH_TEST_SYNCER"

func TestMain(m *testing.M) {
	if os.Getenv(syncerEnv) == "1" {
		os.Exit(runSyncer(os.Args[len(os.Args)-1]))
	}
	os.Exit(pgtest.Main(m))
}

// runSyncer is `cdc run --config path` without the CLI. With
// CDC_BENCH_CPUPROFILE set it writes a CPU profile there, for finding
// where a slow run spends its time.
func runSyncer(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 2
	}
	if prof := os.Getenv("CDC_BENCH_CPUPROFILE"); prof != "" {
		f, err := os.Create(prof)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := pipeline.New(cfg, pipeline.Options{Logger: log}).Run(ctx); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	return 0
}

// run runs the benchmark on db with this test binary as the syncer and
// returns the report and what it printed.
func run(t *testing.T, db *pgtest.DB, o Options) (*Report, string) {
	t.Helper()
	t.Setenv(syncerEnv, "1")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	o.DSN, o.Syncer, o.Timeout, o.Out = db.DSN, []string{os.Args[0]}, time.Minute, &out
	rep, err := Run(ctx, o)
	require.NoError(t, err, out.String())
	return rep, out.String()
}

// TestBacklogDeliversEveryOrder runs the backlog mode end to end on a small
// backlog: the syncer subprocess, the stand-in and pg_recvlogical.
func TestBacklogDeliversEveryOrder(t *testing.T) {
	db := pgtest.NewDB(t)
	rep, out := run(t, db, Options{Backlog: 2000, TxSize: 100, Customers: 50, Repeat: 2, QueueSize: 500})
	require.Len(t, rep.Drains, 2, "one result per round")
	bindir, _ := pglocal.FindBindir()
	for i, r := range rep.Drains {
		require.Equal(t, i+1, r.Round)
		require.Equal(t, 2000, r.Events, "one $purchase per paid order, each once")
		require.Positive(t, r.Syncer)
		require.Positive(t, r.PeakRSS)
		if recvlogical(bindir) != "" {
			require.Positive(t, r.Recv, "pg_recvlogical drained the same backlog")
		}
	}
	require.Contains(t, out, "cdc events/s")
	require.Contains(t, out, "median")
	var slots int
	require.NoError(t, db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cdc_bench%'").Scan(&slots))
	require.Zero(t, slots, "the benchmark drops its slots")
}

// TestSteadyMeasuresEveryOrder runs the steady mode briefly: every
// committed order is delivered once and has a latency.
func TestSteadyMeasuresEveryOrder(t *testing.T) {
	rep, out := run(t, pgtest.NewDB(t), Options{Steady: []int{100}, Duration: time.Second, Writers: 2})
	require.Len(t, rep.Steady, 1)
	r := rep.Steady[0]
	require.Equal(t, 100, r.Committed)
	require.Equal(t, r.Committed, r.Delivered, "every committed order reached the stand-in")
	require.Zero(t, r.Duplicates)
	require.Positive(t, r.Max)
	require.LessOrEqual(t, r.P50, r.P99)
	require.Contains(t, out, "p99")
}

func TestPercentileIsNearestRank(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var ls []time.Duration
	for i := 1; i <= 100; i++ {
		ls = append(ls, ms(i))
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{0.50, ms(50)}, {0.99, ms(99)}, {1, ms(100)}, {0.001, ms(1)}}
	for _, tt := range tests {
		require.Equal(t, tt.want, percentile(ls, tt.p), "p%g", tt.p*100)
	}
}

func TestSharesPairOrdersByKey(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(m map[string]time.Duration) func(string) (time.Time, bool) {
		return func(k string) (time.Time, bool) {
			d, ok := m[k]
			return t0.Add(d), ok
		}
	}
	commits := []commit{{key: "1", at: t0}, {key: "2", at: t0}, {key: "3", at: t0}}
	cdc := at(map[string]time.Duration{"1": 3 * time.Millisecond, "2": 5 * time.Millisecond, "3": time.Millisecond})
	probe := at(map[string]time.Duration{"1": time.Millisecond, "2": time.Millisecond}) // "3" never arrived
	p50, p99 := shares(commits, cdc, probe)
	require.Equal(t, 2*time.Millisecond, p50, "orders 1 and 2 only")
	require.Equal(t, 4*time.Millisecond, p99)
}

// TestWideRowsDeliversEveryOrder runs the wide-rows mode briefly: orders
// with a 2 MB note behind a slow stand-in are all delivered once. It checks
// the mode works, not memory: the numbers belong in docs/benchmarks.md.
func TestWideRowsDeliversEveryOrder(t *testing.T) {
	rep, out := run(t, pgtest.NewDB(t), Options{WideRows: 10, SinkDelay: 50 * time.Millisecond})
	require.Len(t, rep.Drains, 1)
	require.Equal(t, "wide-rows", rep.Drains[0].Mode)
	require.Equal(t, 10, rep.Drains[0].Events)
	require.Positive(t, rep.Drains[0].PeakRSS)
	require.Contains(t, out, "wide-rows")
}

// TestOutageCatchesUpAfterBentoReturns runs the outage mode briefly: while
// the stand-in answers 503 nothing is accepted, and every order committed
// meanwhile arrives once it answers again.
func TestOutageCatchesUpAfterBentoReturns(t *testing.T) {
	rep, out := run(t, pgtest.NewDB(t), Options{Outage: 2 * time.Second, OutageRate: 50, RPM: 600, Writers: 2})
	require.Len(t, rep.Paced, 1)
	r := rep.Paced[0]
	require.Equal(t, 100, r.Backlog, "50 orders/s for 2 s")
	require.Equal(t, r.Backlog, r.Events)
	require.GreaterOrEqual(t, r.Startup, time.Duration(0), "nothing was accepted before the stand-in answered again")
	require.Contains(t, out, "Outage: the stand-in answered 503 for 2s")
}
