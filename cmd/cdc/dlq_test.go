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
