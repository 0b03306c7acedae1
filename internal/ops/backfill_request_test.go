package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline"
)

// TestBackfillRequestsWaitForASyncerAndShowInStatus: without a running
// syncer a request is queued (and says so) and cdc status lists it; the
// syncer that starts runs it, and the command's wait sees it finish.
func TestBackfillRequestsWaitForASyncerAndShowInStatus(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'q' || i || '@example.com', true FROM generate_series(1, 30) i`)
	pool, err := ops.OpenForBackfill(ctx, e.Cfg, true)
	require.NoError(t, err)
	defer pool.Close()
	queued, err := ops.RequestBackfills(ctx, pool, e.Cfg.Source.Schema, e.Cfg.Source.Slot,
		[]ops.BackfillRequest{{Table: "public.customers", Where: "id <= 20"}})
	require.NoError(t, err)
	require.Len(t, queued, 1)
	require.False(t, queued[0].Running, "no syncer runs yet")

	st, err := ops.ReadStatusWith(ctx, pool, e.Cfg)
	require.NoError(t, err)
	require.Len(t, st.Requests, 1)
	require.Equal(t, backfill.StateQueued, st.Requests[0].State)

	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond})
	running, err := ops.SyncerRunning(ctx, pool, e.Cfg.Source.Slot)
	require.NoError(t, err)
	require.True(t, running)
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	r, err := ops.WaitBackfill(waitCtx, pool, e.Cfg.Source.Schema, queued[0].ID, 20*time.Millisecond, func(backfill.Request) {})
	require.NoError(t, err)
	require.Equal(t, backfill.StateDone, r.State, r.Reason)
	require.EqualValues(t, 20, r.RowsDone, "--where kept 20 of 30 rows")
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 20 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())

	st, err = ops.ReadStatusWith(ctx, pool, e.Cfg)
	require.NoError(t, err)
	require.Empty(t, st.Requests, "finished requests are no longer listed")
}

// A --where the server cannot plan is refused naming the condition before
// anything is queued: a finished table's progress stays as it was even with
// --restart (U13).
func TestBackfillBadWhereQueuesNothingAndKeepsProgress(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'w' || i || '@example.com', true FROM generate_series(1, 5) i`)
	pool, err := ops.OpenForBackfill(ctx, e.Cfg, true)
	require.NoError(t, err)
	defer pool.Close()
	queued, err := ops.RequestBackfills(ctx, pool, e.Cfg.Source.Schema, e.Cfg.Source.Slot,
		[]ops.BackfillRequest{{Table: "public.customers"}})
	require.NoError(t, err)
	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond})
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	r, err := ops.WaitBackfill(waitCtx, pool, e.Cfg.Source.Schema, queued[0].ID, 20*time.Millisecond, func(backfill.Request) {})
	require.NoError(t, err)
	require.Equal(t, backfill.StateDone, r.State, r.Reason)
	before, err := ops.ReadStatusWith(ctx, pool, e.Cfg)
	require.NoError(t, err)
	require.NotEmpty(t, before.Backfills)

	_, err = ops.RequestBackfills(ctx, pool, e.Cfg.Source.Schema, e.Cfg.Source.Slot,
		[]ops.BackfillRequest{{Table: "public.customers", Where: "nosuchcol = 1", Restart: true}})
	var bad *ops.BadWhereError
	require.ErrorAs(t, err, &bad)
	require.ErrorContains(t, err, `"nosuchcol = 1"`)
	require.ErrorContains(t, err, "nosuchcol")
	require.ErrorContains(t, err, "nothing queued")
	require.NoError(t, stop())

	after, err := ops.ReadStatusWith(ctx, pool, e.Cfg)
	require.NoError(t, err)
	require.Empty(t, after.Requests, "nothing queued")
	require.Equal(t, before.Backfills, after.Backfills, "progress untouched")
	require.False(t, after.Backfills[0].Gone)

	// After a rename the row under the old name says so (U19).
	e.DB.Exec(t, `ALTER TABLE customers RENAME TO clients`)
	renamed, err := ops.ReadStatusWith(ctx, pool, e.Cfg)
	require.NoError(t, err)
	require.Equal(t, "public.customers", renamed.Backfills[0].Table)
	require.True(t, renamed.Backfills[0].Gone, "no table has the old name now")
}
