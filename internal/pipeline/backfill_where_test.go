package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/pipeline"
)

// TestWhereBackfillLeavesTheTablesProgressAlone: a --where backfill is a
// targeted re-send. On a table already backfilled it still runs (it is not
// "already backfilled"), and on a table never backfilled it does not mark
// the table done, so a later full backfill sends every row.
func TestWhereBackfillLeavesTheTablesProgressAlone(t *testing.T) {
	e := newEnv(t, "backfill:\n  chunk_size: 2\n")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'w' || i || '@example.com', true FROM generate_series(1, 5) i`)
	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond})
	defer func() { require.NoError(t, stop()) }()
	store := backfill.NewRequestStore(e.DB.Pool, e.Cfg.Source.Schema)
	ctx := context.Background()
	run := func(where string) backfill.Request {
		id, err := store.Add(ctx, backfill.Request{Table: "customers", Where: where})
		require.NoError(t, err)
		waitRequest(t, store, id)
		r, err := store.Get(ctx, id)
		require.NoError(t, err)
		return r
	}
	progress := func() []backfill.TableProgress {
		p, err := backfill.Progress(ctx, e.DB.Pool, e.Cfg.Source.Schema)
		require.NoError(t, err)
		return p
	}

	r := run("id = 2")
	require.Empty(t, r.Reason)
	require.EqualValues(t, 1, r.RowsDone)
	require.Len(t, e.Fake.Received(), 1)
	require.Empty(t, progress(), "a --where backfill records no progress for the whole table")

	r = run("")
	require.EqualValues(t, 5, r.RowsDone, "the full backfill was not skipped")
	require.Len(t, e.Fake.Received(), 6)
	p := progress()
	require.Len(t, p, 1)
	require.True(t, p[0].Done)
	require.EqualValues(t, 5, p[0].RowsDone)

	r = run("id IN (3, 4)")
	require.Empty(t, r.Reason, "a --where backfill on a backfilled table runs")
	require.EqualValues(t, 2, r.RowsDone)
	require.Len(t, e.Fake.Received(), 8)
	require.Equal(t, p, progress(), "the table's full-backfill progress is unchanged")

	r = run("")
	require.Equal(t, "already backfilled; use --restart to send it again", r.Reason)
	require.Len(t, e.Fake.Received(), 8)
}
