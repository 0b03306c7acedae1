package logtest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x\n"))
			}
		})
	}
	wg.Wait()
	require.Equal(t, 800, b.Count("x\n"))
	require.Len(t, b.String(), 1600)
}
