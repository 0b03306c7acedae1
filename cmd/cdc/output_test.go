package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ledger"
)

// A rule dead letter has no HTTP status: dlq list shows "-", not 0 (U17).
func TestDLQListStatusColumn(t *testing.T) {
	for status, want := range map[int]string{0: "-", 422: "422", 500: "500"} {
		if got := httpStatus(status); got != want {
			t.Errorf("httpStatus(%d) = %q, want %q", status, got, want)
		}
	}
}

// Rows read with no event say why: only snapshot rules run on existing rows
// (U15).
func TestPreviewSummaryExplainsNoEvents(t *testing.T) {
	got := previewSummary("public.orders", 4, 0, 0)
	if want := "public.orders: 4 rows read, 0 events, 0 rule failures (nothing sent); only rules with snapshot"; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("previewSummary = %q", got)
	}
	if got := previewSummary("public.orders", 4, 2, 0); got != "public.orders: 4 rows read, 2 events, 0 rule failures (nothing sent)" {
		t.Errorf("previewSummary with events = %q", got)
	}
}

// cdc log says on stderr when --limit cut the output, and nothing when it
// did not.
func TestLogTruncatedNotice(t *testing.T) {
	var b strings.Builder
	truncatedNotice(&b, ledger.Page{Entries: make([]ledger.Entry, 3)})
	if b.Len() != 0 {
		t.Errorf("notice without truncation: %q", b.String())
	}
	truncatedNotice(&b, ledger.Page{Entries: make([]ledger.Entry, 3), More: true})
	for _, want := range []string{"newest 3 ", "older ones exist", "--limit", "--since"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("notice %q lacks %q", b.String(), want)
		}
	}
}

// recordingReporter keeps the calls a progress display got.
type recordingReporter struct{ calls []string }

func (r *recordingReporter) Start(table string, total, done int64) {
	r.calls = append(r.calls, fmt.Sprintf("start %s %d %d", table, total, done))
}
func (r *recordingReporter) Advance(done int64) {
	r.calls = append(r.calls, fmt.Sprintf("advance %d", done))
}
func (r *recordingReporter) Finish() { r.calls = append(r.calls, "finish") }

// cdc backfill's progress starts when the syncer runs the request, from
// the rows a resumed backfill already had (so its rate is this run's); a
// request that ends without running (already backfilled) shows none.
func TestBackfillProgressStartsWhenTheRequestRuns(t *testing.T) {
	rec := &recordingReporter{}
	p := &requestProgress{rep: rec, table: "public.orders", estimate: func() int64 { return 207 }}
	for _, r := range []backfill.Request{{State: backfill.StateQueued}, {State: backfill.StateRunning, RowsDone: 100},
		{State: backfill.StateRunning, RowsDone: 150}, {State: backfill.StateDone, RowsDone: 207}} {
		p.show(r)
	}
	p.finish()
	want := []string{"start public.orders 207 100", "advance 150", "advance 207", "finish"}
	if !slices.Equal(rec.calls, want) {
		t.Errorf("calls %q, want %q", rec.calls, want)
	}

	rec = &recordingReporter{}
	p = &requestProgress{rep: rec, table: "public.orders", estimate: func() int64 { return 1 }}
	p.show(backfill.Request{State: backfill.StateQueued})
	p.show(backfill.Request{State: backfill.StateDone, RowsDone: 3, Reason: "already backfilled; use --restart to send it again"})
	p.finish()
	if len(rec.calls) != 0 {
		t.Errorf("an already backfilled table showed progress: %q", rec.calls)
	}
}

// A one-shot command's stderr gets no INFO lines unless log.level is debug.
func TestCommandLoggerKeepsInfoOut(t *testing.T) {
	for level, infoShown := range map[string]bool{"info": false, "warn": false, "debug": true} {
		var b strings.Builder
		log := newCommandLogger(&b, level, "text")
		log.Info("reconcile done")
		log.Warn("careful")
		if got := strings.Contains(b.String(), "reconcile done"); got != infoShown {
			t.Errorf("log.level %s: INFO shown %v, want %v", level, got, infoShown)
		}
		if !strings.Contains(b.String(), "careful") {
			t.Errorf("log.level %s: WARN not shown", level)
		}
	}
}
