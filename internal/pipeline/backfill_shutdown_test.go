package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/pipeline"
)

// TestShutdownIsBoundedWhileABackfillRequestCannotBeFinished (R8): the
// in-stream backfill records a request's end in a write that must survive
// the stop; with that write blocked by a lock another session holds (a hung
// database, for the syncer), a stop still returns within shutdown_timeout.
func TestShutdownIsBoundedWhileABackfillRequestCannotBeFinished(t *testing.T) {
	e := newEnv(t, "")
	e.Cfg.ShutdownTimeout = 2 * time.Second
	ctx := context.Background()
	requests := pgx.Identifier{e.Cfg.Source.Schema, "backfill_requests"}.Sanitize()
	lock, err := e.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback(ctx) }()
	locked := make(chan error, 1)
	hooks := backfill.Hooks{AfterLow: func(context.Context, string, int64) {
		// customers is empty: after this the request ends at once, and its
		// end waits for the lock on its row.
		_, err := lock.Exec(ctx, `SELECT 1 FROM `+requests+` FOR UPDATE`)
		locked <- err
	}}
	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond, BackfillHooks: hooks})
	store := backfill.NewRequestStore(e.DB.Pool, e.Cfg.Source.Schema)
	_, err = store.Add(ctx, backfill.Request{Table: "public.customers"})
	require.NoError(t, err)
	require.NoError(t, <-locked)
	require.Eventually(t, func() bool {
		var n int
		err := e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE %backfill_requests%'`).Scan(&n)
		return err == nil && n == 1
	}, 30*time.Second, 20*time.Millisecond, "the request's end never waited for the lock")

	stopped := make(chan error, 1)
	began := time.Now()
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		require.NoError(t, err)
		require.Less(t, time.Since(began), 2*e.Cfg.ShutdownTimeout)
	case <-time.After(30 * time.Second):
		_ = lock.Rollback(ctx) // let the syncer go before the test ends
		<-stopped
		t.Fatal("the stop waited for a blocked database write")
	}
}
