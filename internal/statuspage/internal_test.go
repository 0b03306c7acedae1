package statuspage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMaskHidesEmailsUnlessOff(t *testing.T) {
	in := "email: Ann.Lee@example.com is not subscribed; key id=7"
	require.Equal(t, "email: A•••@example.com is not subscribed; key id=7", masker{}.text(in))
	require.Equal(t, in, masker{off: true}.text(in))
}

func TestRatesPerMinuteOverTheLastMinute(t *testing.T) {
	var r rates
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, _, ok := r.add(sample{at: t0})
	require.False(t, ok, "one sample is no rate")
	req, ev, ok := r.add(sample{at: t0.Add(30 * time.Second), requests: 10, events: 500})
	require.True(t, ok)
	require.InDelta(t, 20, req, 0.001)
	require.InDelta(t, 1000, ev, 0.001)
	// Two minutes later only the last minute counts.
	r.add(sample{at: t0.Add(90 * time.Second), requests: 40, events: 500})
	req, _, _ = r.add(sample{at: t0.Add(150 * time.Second), requests: 40, events: 500})
	require.InDelta(t, 0, req, 0.001)
}

func TestHumanBytes(t *testing.T) {
	require.Equal(t, "512 B", humanBytes(512))
	require.Equal(t, "6.5 KiB", humanBytes(6656))
	require.Equal(t, "3.0 GiB", humanBytes(3<<30))
}
