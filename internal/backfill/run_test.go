package backfill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/rules"
)

// TestBackfillOrdersMatchesSQL: every paid order yields exactly one
// $purchase, dated by paid_at, with its exact amount; progress ends done.
func TestBackfillOrdersMatchesSQL(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 200, 50000)
	fb := newFakeBento(t)
	ctx := context.Background()

	res, err := Run(ctx, fb.options(db, exampleRules(t), "orders"))
	require.NoError(t, err)
	require.Equal(t, "public.orders", res.Table)
	require.EqualValues(t, 50000, res.Rows)
	require.False(t, res.Resumed)

	want := paidOrders(t, db)
	require.Len(t, want, 30000)
	got := map[string]string{}
	for _, ev := range fb.Received() {
		require.Equal(t, "$purchase", ev.Type, "only the snapshot rule may fire")
		require.Equal(t, "pos", ev.Source)
		key := ev.Details["unique"].(map[string]any)["key"].(string)
		_, dup := got[key]
		require.False(t, dup, "order %s sent twice", key)
		got[key] = fmt.Sprint(ev.Date, " ", ev.Details["value"].(map[string]any)["amount"])
	}
	require.Equal(t, want, got)
	require.Equal(t, res.Events, len(got))
	for _, ev := range fb.Received()[:50] {
		require.Regexp(t, `^customer\d+@example\.com$`, ev.Email, "email lower-cased by the rule from the lookup")
	}

	st := loadState(t, db, "public.orders")
	require.True(t, st.Done)
	require.EqualValues(t, 50000, st.RowsDone)

	// Done means done: a second run sends nothing until restarted.
	requests := len(fb.Requests())
	res, err = Run(ctx, fb.options(db, exampleRules(t), "public.orders"))
	require.NoError(t, err)
	require.True(t, res.AlreadyDone)
	require.Len(t, fb.Requests(), requests)
}

// TestBackfillResumesAfterInterruptions cancels the backfill at a random
// request, four times, and resumes until done: every paid order arrives, and
// the only repeats are events of the chunk that was in flight at each cut.
func TestBackfillResumesAfterInterruptions(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 100, 10000)
	fb := newFakeBento(t)
	set := exampleRules(t)
	const chunk, cuts = 1000, 4 // 600 purchases a chunk: 3 or 4 requests

	for i := 0; i <= cuts; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		var once sync.Once
		var n atomic.Int32
		cutAt := int32(1 + rand.IntN(10))
		hook := func() {
			if n.Add(1) == cutAt && i < cuts {
				once.Do(cancel) // while this request is in flight
			}
		}
		fb.hook.Store(&hook)
		opts := fb.options(db, set, "orders")
		opts.ChunkSize = chunk
		res, err := Run(ctx, opts)
		cancel()
		if i < cuts {
			require.ErrorIs(t, err, context.Canceled, "cut %d", i)
			known, err := Known(context.Background(), db.Pool, schema)
			require.NoError(t, err)
			require.Equal(t, []string{"public.orders"}, known, "progress is kept")
			unfinished, err := Unfinished(context.Background(), db.Pool, schema)
			require.NoError(t, err)
			require.Empty(t, unfinished, "a backfill run by hand is not a first-time backfill for the syncer to resume")
			continue
		}
		require.NoError(t, err)
		require.EqualValues(t, 10000, res.Rows)
	}
	fb.hook.Store(nil)

	keys := purchaseKeys(fb.Received())
	want := paidOrders(t, db)
	dups := 0
	for id := range want {
		require.Contains(t, keys, id, "order %s never arrived", id)
		require.LessOrEqual(t, keys[id], 1+cuts)
		dups += keys[id] - 1
	}
	require.Len(t, keys, len(want))
	require.LessOrEqual(t, dups, cuts*600, "more repeats than one chunk per interruption")
	require.True(t, loadState(t, db, "public.orders").Done)
	unfinished, err := Unfinished(context.Background(), db.Pool, schema)
	require.NoError(t, err)
	require.Empty(t, unfinished)
}

// TestBackfillRestartStartsOver: Restart forgets done progress.
func TestBackfillRestartStartsOver(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 10, 50)
	fb := newFakeBento(t)
	opts := fb.options(db, exampleRules(t), "orders")
	_, err := Run(context.Background(), opts)
	require.NoError(t, err)
	opts.Restart = true
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	require.False(t, res.AlreadyDone)
	for id, n := range purchaseKeys(fb.Received()) {
		require.Equal(t, 2, n, "order %s", id)
	}
}

// TestBackfillWhereAndDeadLetters: the operator's filter limits the rows;
// a row a rule cannot handle is dead-lettered and the backfill goes on.
func TestBackfillWhereAndDeadLetters(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 10, 100)
	db.Exec(t, `UPDATE customers SET email = 'not-an-email' WHERE id = 3`)
	fb := newFakeBento(t)
	opts := fb.options(db, exampleRules(t), "orders")
	opts.Where = "created_at > '2000-01-01' AND id <= 50 -- the operator's own filter"
	opts.ChunkSize = 7
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	require.EqualValues(t, 50, res.Rows)

	wantEvents := count(t, db, `SELECT count(*) FROM orders WHERE id <= 50 AND paid_at IS NOT NULL AND customer_id <> 3`)
	wantFailures := count(t, db, `SELECT count(*) FROM orders WHERE id <= 50 AND paid_at IS NOT NULL AND customer_id = 3`)
	require.NotZero(t, wantFailures)
	require.Len(t, fb.Received(), int(wantEvents))
	require.Equal(t, int(wantFailures), res.Failures)
	require.Equal(t, wantFailures, count(t, db, `SELECT count(*) FROM cdc.dead_letters WHERE kind = 'rule' AND rule = 'purchase_on_paid'`))
	require.Equal(t, wantFailures, count(t, db, `SELECT count(*) FROM cdc.dead_letters WHERE commit_lsn IS NULL AND reason LIKE 'backfill: %'`),
		"a backfill's dead letters name no WAL position they never had")
}

func TestBackfillNeedsPrimaryKey(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	db.Exec(t, `CREATE TABLE events_log (email text, at timestamptz)`)
	fb := newFakeBento(t)
	_, err := Run(context.Background(), fb.options(db, exampleRules(t), "events_log"))
	require.ErrorIs(t, err, ErrNoPrimaryKey)
	require.Contains(t, err.Error(), "public.events_log")

	_, err = Run(context.Background(), fb.options(db, exampleRules(t), "missing"))
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNoPrimaryKey))
	require.Contains(t, err.Error(), "no such table")
}

// TestBackfillStopRuleKeepsDeliveredProgress: a stop rule's failure ends the
// backfill with the rule named; chunks before it stay delivered and saved.
func TestBackfillStopRuleKeepsDeliveredProgress(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 10, 30)
	db.Exec(t, `UPDATE orders SET currency = 'EUR' WHERE id = 17`)
	set := compileRules(t, `
rules:
  - name: strict_purchase
    table: orders
    on: [snapshot]
    on_error: stop
    when: new.paid_at != nil
    event:
      type: $purchase
      email: '= new.currency == "EUR" ? "broken" : "a@example.com"'
      details:
        unique: {key: "= string(new.id)"}
        value: {amount: "= cents(new.total)", currency: "= new.currency"}
`)
	fb := newFakeBento(t)
	opts := fb.options(db, set, "orders")
	opts.ChunkSize = 5
	res, err := Run(context.Background(), opts)
	var ruleErr *rules.RuleError
	require.ErrorAs(t, err, &ruleErr)
	require.Equal(t, "strict_purchase", ruleErr.Rule)
	require.Contains(t, err.Error(), "id=17")
	require.EqualValues(t, 15, res.Rows, "chunks 1-3 (ids 1-15) were delivered")
	st := loadState(t, db, "public.orders")
	require.Equal(t, []string{"15"}, st.LastKey)
	require.False(t, st.Done)
	require.Len(t, purchaseKeys(fb.Received()), int(count(t, db, `SELECT count(*) FROM orders WHERE id <= 15 AND paid_at IS NOT NULL`)))
}
