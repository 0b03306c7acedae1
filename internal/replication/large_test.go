package replication

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

const heapBound = 64 << 20

// streamLargeTx inserts rows in one transaction and consumes them while
// sampling the heap: the reader must never hold the transaction.
func streamLargeTx(tb testing.TB, h *harness, rows int) (maxHeap uint64) {
	h.db.Exec(tb, fmt.Sprintf(`INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, %d) g`, rows))
	var ms runtime.MemStats
	for n := 0; ; n++ {
		ch := h.next()
		if n%10000 == 0 {
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
		if ch.Op == stream.OpCommit {
			require.Equal(tb, rows, ch.Pos.Index)
			require.Equal(tb, rows, n)
			h.ack(ch.Pos)
			return maxHeap
		}
		require.Equal(tb, n, ch.Pos.Index)
	}
}

func TestLargeTransactionBoundedMemory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.big (id int PRIMARY KEY, v text)`, "public.big")
	h.start()
	maxHeap := streamLargeTx(t, h, 200_000)
	require.Less(t, maxHeap, uint64(heapBound), "heap grew to %d MiB", maxHeap>>20)
}

func BenchmarkLargeTransaction(b *testing.B) {
	b.StopTimer()
	for range b.N {
		h := newHarness(b, `CREATE TABLE public.big (id int PRIMARY KEY, v text)`, "public.big")
		h.start()
		b.StartTimer()
		maxHeap := streamLargeTx(b, h, 1_000_000)
		if maxHeap >= heapBound {
			b.Fatalf("heap grew to %d MiB", maxHeap>>20)
		}
		b.ReportMetric(float64(maxHeap>>20), "maxheap-MiB")
		b.StopTimer()
		h.stop()
	}
}
