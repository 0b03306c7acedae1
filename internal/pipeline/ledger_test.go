package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ledger"
)

// The ledger holds every purchase Bento accepted, with its key, amount,
// position and request, and no position beyond the saved checkpoint.
func TestLedgerRecordsAcceptedPurchasesWithTheCheckpoint(t *testing.T) {
	checkLeaks(t)
	e := newEnv(t, "")
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, first_name, marketing_opt_in) VALUES ('ann@example.com', 'Ann', true), ('bob@example.com', 'Bob', true)`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 19.99, now()), (2, 'paid', 5.01, now())`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (1, 7.00)`)
	e.db.Exec(t, `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = 3`)
	e.waitTotals(t)
	require.NoError(t, stop())

	ctx := context.Background()
	all, err := ledger.Find(ctx, e.db.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	require.Len(t, all, 3, "purchases mode records the three purchases and not the subscribes")
	for _, en := range all {
		require.Equal(t, "$purchase", en.Type)
		require.Equal(t, ledger.OriginStream, en.Origin)
		require.NotEmpty(t, en.Request)
		require.NotNil(t, en.Position)
		require.NotNil(t, en.UniqueKey)
		require.Equal(t, "USD", *en.Currency)
	}
	ann, err := ledger.Find(ctx, e.db.Pool, "cdc", ledger.Query{Email: "ANN@example.com"})
	require.NoError(t, err)
	require.Len(t, ann, 2)
	require.Equal(t, int64(1999), *ann[0].Amount)
	require.Equal(t, int64(700), *ann[1].Amount)
	byKey, err := ledger.Find(ctx, e.db.Pool, "cdc", ledger.Query{Key: "2"})
	require.NoError(t, err)
	require.Len(t, byKey, 1)
	require.Equal(t, "bob@example.com", byKey[0].Email)
	none, err := ledger.Find(ctx, e.db.Pool, "cdc", ledger.Query{Since: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.Empty(t, none)

	var beyond int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM cdc.ledger l, cdc.checkpoint c
		WHERE (l.commit_lsn, l.change_index, l.event_sub) > (c.commit_lsn, c.change_index, c.event_sub)`).Scan(&beyond))
	require.Zero(t, beyond, "a ledger row beyond the saved checkpoint")
}

// ledger: all records every accepted event, exactly as many as Bento got.
func TestLedgerAllRecordsEveryEvent(t *testing.T) {
	e := newEnv(t, "ledger: all\n")
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, first_name, plan, marketing_opt_in) VALUES ('ann@example.com', 'Ann', 'free', true)`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 3.50, now())`)
	e.db.Exec(t, `UPDATE customers SET plan = 'pro' WHERE id = 1`)
	e.waitTotals(t)
	require.Eventually(t, func() bool { return len(e.fake.Received()) >= 4 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())

	got, err := ledger.Find(context.Background(), e.db.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	want := map[string]int{}
	for _, ev := range e.fake.Received() {
		want[ev.Type]++
	}
	have := map[string]int{}
	for _, en := range got {
		have[en.Type]++
	}
	require.Equal(t, want, have)
}

// ledger: off records nothing.
func TestLedgerOffRecordsNothing(t *testing.T) {
	e := newEnv(t, "ledger: \"off\"\n")
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 3.50, now())`)
	e.waitTotals(t)
	require.NoError(t, stop())
	got, err := ledger.Find(context.Background(), e.db.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	require.Empty(t, got)
}

// The first-start backfill records what it sent, as origin backfill.
func TestLedgerRecordsTheFirstStartBackfill(t *testing.T) {
	e := newEnv(t, "backfill:\n  on_create: true\n")
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 1.00, now()), (1, 'paid', 2.00, now())`)
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 4.00, now())`)
	e.waitTotals(t)
	require.NoError(t, stop())
	got, err := ledger.Find(context.Background(), e.db.Pool, "cdc", ledger.Query{Email: "ann@example.com"})
	require.NoError(t, err)
	origins := map[string]int{}
	for _, en := range got {
		origins[en.Origin]++
	}
	require.Equal(t, map[string]int{ledger.OriginBackfill: 2, ledger.OriginStream: 1}, origins)
}
