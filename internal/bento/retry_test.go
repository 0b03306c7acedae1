package bento

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-5", 0},
		{"soon", 0},
		{"Fri, 27 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Fri, 27 Nov 2026 09:00:00 GMT", 0},
		{"999999", maxRetryAfter},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, parseRetryAfter(tt.in, now), "Retry-After %q", tt.in)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		want   outcome
	}{
		{200, outcomeOK}, {202, outcomeOK}, {204, outcomeOK},
		{408, outcomeRetry}, {429, outcomeRetry}, {500, outcomeRetry}, {502, outcomeRetry}, {503, outcomeRetry},
		{413, outcomeTooLarge},
		{400, outcomeRejected}, {422, outcomeRejected},
		{401, outcomeHalt}, {403, outcomeHalt}, {404, outcomeHalt}, {301, outcomeHalt}, {302, outcomeHalt},
		{307, outcomeHalt}, {308, outcomeHalt}, {405, outcomeHalt}, {406, outcomeHalt}, {409, outcomeHalt},
		{410, outcomeHalt}, {415, outcomeHalt}, {418, outcomeHalt},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, classify(tt.status), "status %d", tt.status)
	}
}

func TestParseAnswer(t *testing.T) {
	require.Equal(t, &eventsAnswer{Results: 3}, parseAnswer([]byte(`{"results":3,"failed":0}`)))
	a := parseAnswer([]byte(`{"results":2,"failed":2,"errors":[{"index":4,"error":"bad email"},{"index":1,"error":"x"},{"index":9,"error":"out of range"}]}`))
	require.Equal(t, 2, a.Failed)
	reasons, last := a.listed(5)
	require.Equal(t, map[int]string{4: "bad email", 1: "x"}, reasons)
	require.Equal(t, 4, last)
	require.Nil(t, parseAnswer([]byte(`not json`)), "an unreadable 2xx answer must not cause a re-send")
	require.Nil(t, parseAnswer([]byte(`{"success":true}`)))
}
