package retry

import (
	"context"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/require"
)

func TestBackoffNeverExceedsItsCap(t *testing.T) {
	const maxInterval = 4 * time.Second
	b := Backoff(time.Second, maxInterval)
	sawCap := false
	for i := 0; i < 1000; i++ {
		d := b.NextBackOff()
		require.NotEqual(t, backoff.Stop, d, "the schedule never gives up by itself")
		require.LessOrEqual(t, d, maxInterval, "wait %d", i)
		sawCap = sawCap || d == maxInterval
	}
	require.True(t, sawCap, "jitter above the cap is clamped to it")
}

func TestBackoffGrowsFromInitial(t *testing.T) {
	b := Backoff(time.Second, time.Minute)
	first := b.NextBackOff()
	require.InDelta(t, float64(time.Second), float64(first), float64(time.Second)*jitter)
	second := b.NextBackOff()
	require.InDelta(t, float64(2*time.Second), float64(second), float64(2*time.Second)*jitter)
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	require.NoError(t, Sleep(context.Background(), 0))
}
