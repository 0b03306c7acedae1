package backfill

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Reporter shows a backfill's progress. Calls come from the Run goroutine.
type Reporter interface {
	// Start: total is the expected number of rows (-1: unknown), done the
	// rows already delivered by earlier runs.
	Start(table string, total, done int64)
	// Advance: done rows are delivered (acknowledged by Bento).
	Advance(done int64)
	Finish()
}

type nopReporter struct{}

func (nopReporter) Start(string, int64, int64) {}
func (nopReporter) Advance(int64)              {}
func (nopReporter) Finish()                    {}

// BarReporter draws a progress bar (rows done, rate, ETA) on a terminal.
type BarReporter struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// NewBarReporter draws on w, which should be a terminal.
func NewBarReporter(w io.Writer) *BarReporter { return &BarReporter{w: w} }

func (b *BarReporter) Start(table string, total, done int64) {
	b.bar = progressbar.NewOptions64(atLeastDone(total, done),
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(table),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
	)
	_ = b.bar.Set64(done)
}

func (b *BarReporter) Advance(done int64) {
	if b.bar == nil {
		return
	}
	// The total is an estimate: grow it rather than overflow the bar.
	if m := b.bar.GetMax64(); m >= 0 && done > m {
		b.bar.ChangeMax64(done)
	}
	_ = b.bar.Set64(done)
}

func (b *BarReporter) Finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// LogReporter reports progress (rows done, rate, ETA) at most once per
// interval, for when output is not a terminal: as a log line
// (NewLogReporter, the syncer's) or as a plain line of text
// (NewLineReporter, a command's stderr).
type LogReporter struct {
	sink     func(p progress)
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	table    string
	total    int64
	first    int64 // rows done at Start
	started  time.Time
	lastLog  time.Time
	lastDone int64
}

// progress is one report. Total is -1 when unknown, Rate 0 when not
// measured yet, ETA 0 when none is known (or the run is over).
type progress struct {
	Table       string
	Done, Total int64
	Rate        float64
	ETA         time.Duration
}

// NewLogReporter logs on logger every interval (5s is a good default).
func NewLogReporter(logger *slog.Logger, interval time.Duration) *LogReporter {
	log := logger.With("component", "backfill")
	return &LogReporter{sink: func(p progress) { log.Info("backfill progress", p.attrs()...) }, interval: interval, now: time.Now}
}

// NewLineReporter writes a line of text on w every interval:
// "public.orders: 4000 of 10000 rows, 500 rows/s, about 12s left".
func NewLineReporter(w io.Writer, interval time.Duration) *LogReporter {
	return &LogReporter{sink: func(p progress) { fmt.Fprintln(w, p.text()) }, interval: interval, now: time.Now}
}

func (l *LogReporter) Start(table string, total, done int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.table, l.total, l.first, l.lastDone = table, total, done, done
	l.started = l.now()
	l.lastLog = l.started
	// No line here: the caller's "backfill starting" comes first, progress
	// lines follow it.
}

func (l *LogReporter) Advance(done int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastDone = done
	if l.now().Sub(l.lastLog) >= l.interval {
		l.emit(false)
	}
}

// Finish reports the last figures, without an ETA: the run is over.
func (l *LogReporter) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit(true)
}

func (l *LogReporter) emit(final bool) {
	now := l.now()
	l.lastLog = now
	p := progress{Table: l.table, Done: l.lastDone, Total: atLeastDone(l.total, l.lastDone)}
	if elapsed := now.Sub(l.started).Seconds(); elapsed > 0 {
		p.Rate = float64(l.lastDone-l.first) / elapsed
	}
	if !final && p.Rate > 0 && p.Total > p.Done {
		p.ETA = (time.Duration(float64(p.Total-p.Done)/p.Rate) * time.Second).Round(time.Second)
	}
	l.sink(p)
}

// attrs leaves out an unknown total (a table never analyzed: -1), a rate
// not measured yet and an unknown ETA rather than logging -1 or 0.
func (p progress) attrs() []any {
	attrs := []any{"table", p.Table, "rows_done", p.Done}
	if p.Total >= 0 {
		attrs = append(attrs, "rows_total", p.Total)
	}
	if p.Rate > 0 {
		attrs = append(attrs, "rows_per_second", int64(p.Rate))
	}
	if p.ETA > 0 {
		attrs = append(attrs, "eta", p.ETA)
	}
	return attrs
}

func (p progress) text() string {
	s := fmt.Sprintf("%s: %d rows", p.Table, p.Done)
	if p.Total >= 0 {
		s = fmt.Sprintf("%s: %d of %d rows", p.Table, p.Done, p.Total)
	}
	if p.Rate > 0 {
		s += fmt.Sprintf(", %d rows/s", int64(p.Rate))
	}
	if p.ETA > 0 {
		s += fmt.Sprintf(", about %s left", p.ETA)
	}
	return s
}

// atLeastDone is the planner's row estimate total, never below the rows
// already done (an estimate of 1 with 3 rows done); unknown (-1) stays.
func atLeastDone(total, done int64) int64 {
	if total >= 0 && total < done {
		return done
	}
	return total
}
