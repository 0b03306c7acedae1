package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The share counts only requests sent while a full batch was pending, and
// the bound is backlog ÷ (rpm × batch).
func TestPacedFullShareAndBound(t *testing.T) {
	r := PacedResult{Backlog: 3500, RPM: 120, Batch: 1000, Sizes: []int{1, 999, 1000, 800, 700}}
	full, eligible := r.FullShare()
	require.Equal(t, 4, eligible, "pending before each: 3500, 3499, 2500, 1500 (eligible), 700 (not)")
	require.Equal(t, 1, full)
	r.Sizes = []int{1000, 1000, 1000, 500}
	full, eligible = r.FullShare()
	require.Equal(t, 3, full)
	require.Equal(t, 3, eligible)
	require.Equal(t, 1750*time.Millisecond, r.Bound())
	require.Equal(t, "1000x3, 500", sizesText(r.Sizes))
	require.True(t, within(1900*time.Millisecond, r.Bound(), 0.10))
	require.False(t, within(2000*time.Millisecond, r.Bound(), 0.10))
}
