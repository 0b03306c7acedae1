package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ledger/ledgertest"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline"
)

// TestReconcileRepairsThroughTheRunningSyncer: with a syncer running,
// `cdc reconcile` hands the repair to it (the backfill request mechanism)
// instead of sending beside it; the syncer re-sends the purchases the
// ledger lost and records them as reconcile repairs. Without a syncer the
// hand-off says so and the command repairs by itself.
func TestReconcileRepairsThroughTheRunningSyncer(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	pool, err := ops.OpenForBackfill(ctx, e.Cfg, true)
	require.NoError(t, err)
	defer pool.Close()
	_, handed, err := ops.HandReconcile(ctx, pool, e.Cfg.Source.Schema, e.Cfg.Source.Slot, time.Time{}, "")
	require.NoError(t, err)
	require.False(t, handed, "no syncer runs")

	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond})
	e.DB.Exec(t, `INSERT INTO customers (email) SELECT 'p' || g || '@example.com' FROM generate_series(1, 3) g`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) SELECT 1 + g % 3, 'paid', 5.00, now() FROM generate_series(1, 6) g`)
	require.Eventually(t, func() bool { return countLedger(t, e, "stream") == 6 }, 30*time.Second, 20*time.Millisecond)
	ledgertest.Forget(t, e.DB.Pool, "cdc", "2", "5")

	id, handed, err := ops.HandReconcile(ctx, pool, e.Cfg.Source.Schema, e.Cfg.Source.Slot, time.Time{}, "")
	require.NoError(t, err)
	require.True(t, handed)
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	r, err := ops.WaitBackfill(waitCtx, pool, e.Cfg.Source.Schema, id, 20*time.Millisecond, func(backfill.Request) {})
	require.NoError(t, err)
	require.Equal(t, backfill.StateDone, r.State, r.Reason)
	require.Contains(t, r.Reason, "repaired 2; found 2 missing")
	require.Equal(t, 2, countLedger(t, e, "reconcile"))
	require.NoError(t, stop())
	sent := map[string]int{}
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$purchase" {
			sent[ev.UniqueKey()]++
		}
	}
	require.Equal(t, map[string]int{"1": 1, "2": 2, "3": 1, "4": 1, "5": 2, "6": 1}, sent)
}

func countLedger(t *testing.T, e *env, origin string) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cdc.ledger WHERE origin = $1 AND event_type = '$purchase'`, origin).Scan(&n))
	return n
}
