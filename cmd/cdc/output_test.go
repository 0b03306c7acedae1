package main

import "testing"

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
