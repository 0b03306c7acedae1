package backfill

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLogReporterLogsAtMostOncePerInterval: without a terminal, progress is
// a log line per interval with rows, rate and ETA.
func TestLogReporterLogsAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l, now := onClock(NewLogReporter(slog.New(slog.NewTextHandler(&out, nil)), 5*time.Second))

	l.Start("public.orders", 10000, 1000)
	steps := []struct {
		after time.Duration
		done  int64
	}{{time.Second, 2000}, {2 * time.Second, 3000}, {3 * time.Second, 4000}, {time.Second, 5000}, {5 * time.Second, 6000}}
	for _, s := range steps {
		*now = (*now).Add(s.after)
		l.Advance(s.done)
	}
	got := lines(out.String())
	require.Len(t, got, 2, "one line at 6s and one at 12s; none at start (the runner's \"backfill starting\" is first)")
	require.Contains(t, got[0], "rows_done=4000 rows_total=10000")
	require.Contains(t, got[0], "rows_per_second=500")
	require.Contains(t, got[0], "eta=12s")
	require.Contains(t, got[1], "rows_done=6000")
	require.Contains(t, got[1], "component=backfill")

	l.Finish()
	require.Len(t, lines(out.String()), 3, "finish always logs")
}

// An unknown total (never analyzed: -1) and an unmeasured rate are left out
// of the line, not logged as rows_total=-1 rows_per_second=0 (U16).
func TestLogReporterLeavesOutUnknownTotalAndRate(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l, now := onClock(NewLogReporter(slog.New(slog.NewTextHandler(&out, nil)), 5*time.Second))
	l.Start("public.orders", -1, 0)
	l.Finish()
	got := lines(out.String())
	require.Len(t, got, 1)
	require.Contains(t, got[0], "rows_done=0")
	require.NotContains(t, got[0], "rows_total")
	require.NotContains(t, got[0], "rows_per_second")

	*now = (*now).Add(10 * time.Second)
	l.Start("public.orders", -1, 0)
	*now = (*now).Add(10 * time.Second)
	l.Advance(200)
	require.Contains(t, out.String(), "rows_done=200 rows_per_second=20")
}

// The total is the planner's estimate: a report never shows it below the
// rows done (rows_done=3 rows_total=1), and the last line, when the run is
// over, has no ETA (eta=6m49s for a table already done).
func TestLogReporterTotalNeverBelowDoneAndNoETAAtTheEnd(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l, now := onClock(NewLogReporter(slog.New(slog.NewTextHandler(&out, nil)), 5*time.Second))
	l.Start("public.customers", 1, 0)
	*now = (*now).Add(6 * time.Second)
	l.Advance(3)
	l.Finish()
	got := lines(out.String())
	require.Len(t, got, 2)
	require.Contains(t, got[0], "rows_done=3 rows_total=3")
	require.NotContains(t, got[0], "eta=")

	out.Reset()
	l.Start("public.customers", 207, 0)
	*now = (*now).Add(6 * time.Second)
	l.Advance(3)
	require.Contains(t, out.String(), "eta=", "mid-run: an ETA")
	l.Finish()
	got = lines(out.String())
	require.NotContains(t, got[len(got)-1], "eta=", "the run is over: no ETA")
}

// NewLineReporter writes the same figures as plain text, for a command's
// stderr.
func TestLineReporterWritesPlainText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l, now := onClock(NewLineReporter(&out, 5*time.Second))
	l.Start("public.orders", 10000, 1000)
	*now = (*now).Add(6 * time.Second)
	l.Advance(4000)
	require.Equal(t, "public.orders: 4000 of 10000 rows, 500 rows/s, about 12s left\n", out.String())
}

// onClock gives l a clock the test moves by hand.
func onClock(l *LogReporter) (*LogReporter, *time.Time) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	return l, &now
}
