package main

import (
	"strings"
	"testing"

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
