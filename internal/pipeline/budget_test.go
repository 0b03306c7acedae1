package pipeline_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// TestQueuesAreBoundedInBytes: rows with a 2 MB text column behind a slow
// Bento (issue 10.8). The change queue holds at most source.queue_bytes
// (or one row, when a row is larger than the whole budget), the item queue
// at most bento.queue_bytes, and every purchase is delivered.
func TestQueuesAreBoundedInBytes(t *testing.T) {
	const row = 2 << 20
	for _, budget := range []int64{5 << 20, 1 << 20} {
		t.Run(fmt.Sprintf("%dMiB", budget>>20), func(t *testing.T) {
			e := newEnv(t, "")
			e.Cfg.Source.QueueBytes, e.Cfg.Bento.QueueBytes = budget, 64<<10
			e.Cfg.Bento.QueueSize = 2 // the evaluator blocks, so changes pile up against their budget
			e.Fake.SetFault(&bentotest.Response{Delay: 100 * time.Millisecond})
			reg := prometheus.NewRegistry()
			e.startWithRegistry(t, reg)
			e.DB.Exec(t, `INSERT INTO customers (email) VALUES ('big@example.com')`)
			const n = 12
			for range n {
				e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at, note)
					SELECT id, 'paid', 1.00, now(), repeat('x', $1) FROM customers`, row)
			}
			var changes, items float64
			purchases := func() int {
				got := 0
				for _, ev := range e.Fake.Received() {
					if ev.Type == "$purchase" {
						got++
					}
				}
				return got
			}
			require.Eventually(t, func() bool {
				changes = max(changes, gauge(t, reg, "cdc_replication_queue_bytes"))
				items = max(items, gauge(t, reg, "cdc_bento_queue_bytes"))
				return purchases() == n
			}, 2*time.Minute, 2*time.Millisecond, "every purchase delivered")
			t.Logf("peak queued: changes %.0f bytes, items %.0f bytes", changes, items)
			require.LessOrEqual(t, changes, float64(max(budget, row+4096)), "change queue over its budget")
			require.Greater(t, changes, float64(row), "the change queue held a big row (the gauge works)")
			require.LessOrEqual(t, items, float64(64<<10))
		})
	}
}
