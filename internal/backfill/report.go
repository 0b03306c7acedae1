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
	b.bar = progressbar.NewOptions64(total,
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
	if b.bar != nil {
		_ = b.bar.Set64(done)
	}
}

func (b *BarReporter) Finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// LogReporter logs progress (rows done, rate, ETA) at most once per
// interval, for when output is not a terminal.
type LogReporter struct {
	log      *slog.Logger
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

// NewLogReporter logs on logger every interval (5s is a good default).
func NewLogReporter(logger *slog.Logger, interval time.Duration) *LogReporter {
	return &LogReporter{log: logger.With("component", "backfill"), interval: interval, now: time.Now}
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
		l.emit()
	}
}

func (l *LogReporter) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit()
}

func (l *LogReporter) emit() {
	now := l.now()
	l.lastLog = now
	elapsed := now.Sub(l.started).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(l.lastDone-l.first) / elapsed
	}
	// An unknown total (a table never analyzed: -1) or a rate not measured
	// yet is left out rather than logged as -1 or 0.
	attrs := []any{"table", l.table, "rows_done", l.lastDone}
	if l.total >= 0 {
		attrs = append(attrs, "rows_total", l.total)
	}
	if rate > 0 {
		attrs = append(attrs, "rows_per_second", int64(rate))
	}
	if rate > 0 && l.total > l.lastDone {
		attrs = append(attrs, "eta", (time.Duration(float64(l.total-l.lastDone)/rate) * time.Second).Round(time.Second))
	}
	l.log.Info("backfill progress", attrs...)
}
