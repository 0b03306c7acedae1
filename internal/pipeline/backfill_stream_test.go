package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// raceWrites are the writes a test makes at exact points of a backfill's
// chunks: after the low watermark (the chunk reads the new state) and after
// the chunk was read (the chunk holds the old state). Errors are kept for
// the test goroutine.
type raceWrites struct {
	mu         sync.Mutex
	afterLow   map[string]string // "table/chunk" -> SQL
	beforeHigh map[string]string
	errs       []error
}

func (w *raceWrites) hooks(e *env) backfill.Hooks {
	run := func(m map[string]string) func(context.Context, string, int64) {
		return func(ctx context.Context, table string, chunk int64) {
			sql, ok := m[fmt.Sprintf("%s/%d", table, chunk)]
			if !ok {
				return
			}
			_, err := e.DB.Pool.Exec(ctx, sql)
			w.mu.Lock()
			w.errs = append(w.errs, err)
			w.mu.Unlock()
		}
	}
	return backfill.Hooks{AfterLow: run(w.afterLow), BeforeHigh: run(w.beforeHigh)}
}

// TestBackfillInsideTheStreamNeverSendsAnOlderState: opt-outs, plan
// changes and payments land on rows while their chunk is between its
// watermarks; the backfill drops those rows from the chunk and reads them
// again in a window of their own, so for every customer the last event
// Bento got matches the database, the plans Bento was told follow the
// database's history (never an older plan after a newer one), and every
// paid order's purchase arrives.
func TestBackfillInsideTheStreamNeverSendsAnOlderState(t *testing.T) {
	checkLeaks(t)
	e := newEnv(t, "backfill:\n  chunk_size: 10\n")
	e.DB.Exec(t, `INSERT INTO customers (email, first_name, plan, marketing_opt_in)
		SELECT 'c' || i || '@example.com', 'C' || i, 'free', true FROM generate_series(1, 40) i`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at)
		SELECT i, CASE WHEN i % 2 = 0 THEN 'paid'::order_status ELSE 'pending' END, i + 0.5,
			CASE WHEN i % 2 = 0 THEN now() END FROM generate_series(1, 40) i`)
	w := &raceWrites{
		afterLow: map[string]string{
			"public.customers/2": `UPDATE customers SET marketing_opt_in = false WHERE id = 15;
				UPDATE customers SET plan = 'pro' WHERE id = 16`,
			"public.orders/1": `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = 3`,
		},
		beforeHigh: map[string]string{
			"public.customers/2": `UPDATE customers SET marketing_opt_in = false WHERE id = 17;
				UPDATE customers SET plan = 'pro' WHERE id = 18`,
			"public.customers/3": `UPDATE customers SET marketing_opt_in = false, plan = 'team' WHERE id = 25`,
			"public.orders/2":    `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = 13`,
		},
	}
	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond, BackfillHooks: w.hooks(e)})
	store := backfill.NewRequestStore(e.DB.Pool, e.Cfg.Source.Schema)
	ctx := context.Background()
	var ids []int64
	for _, table := range []string{"public.customers", "public.orders"} {
		id, err := store.Add(ctx, backfill.Request{Table: table})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	for _, id := range ids {
		waitRequest(t, store, id)
	}
	e.waitTotals(t)
	require.NoError(t, stop())
	for _, err := range w.errs {
		require.NoError(t, err)
	}
	require.Len(t, w.errs, 5, "every racing write ran")

	cust, err := store.Get(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, backfill.StateDone, cust.State)
	require.EqualValues(t, 40, cust.RowsDone)
	require.Zero(t, cust.Dropped, "the changed customers were read again")
	orders, err := store.Get(ctx, ids[1])
	require.NoError(t, err)
	require.Zero(t, orders.Dropped, "the paid orders were read again")

	e.requireLastEventsMatchDatabase(t)
	requirePlansInOrder(t, e.Fake.Received(), map[string][]string{
		"c16@example.com": {"free", "pro"}, "c18@example.com": {"free", "pro"}, "c25@example.com": {"free", "team"}})
	// Orders 3 and 13 were paid while their chunk was read: the stream sent
	// their purchase, and their second read may send it again under the
	// same unique key (Bento counts it once); every other order once.
	requireEachPurchase(t, e, map[string]bool{"3": true, "13": true})
}

func waitRequest(t *testing.T, store *backfill.RequestStore, id int64) {
	t.Helper()
	var last backfill.Request
	require.Eventually(t, func() bool {
		r, err := store.Get(context.Background(), id)
		last = r
		return err == nil && r.Over()
	}, 60*time.Second, 20*time.Millisecond, "backfill request %d never finished", id)
	require.Equal(t, backfill.StateDone, last.State, last.Reason)
}

// requireLastEventsMatchDatabase: per customer, the last subscription event
// says what marketing_opt_in says, and the last plan Bento was told is the
// database's plan. A customer left to the stream whose plan never changed
// was told no plan (its snapshot was dropped); every other one was.
func (e *env) requireLastEventsMatchDatabase(t *testing.T) {
	t.Helper()
	lastSub, lastPlan := map[string]string{}, map[string]any{}
	for _, ev := range e.Fake.Received() {
		switch ev.Type {
		case "$subscribe", "$unsubscribe":
			lastSub[ev.Email] = ev.Type
		}
		if p, ok := ev.Fields["plan"]; ok {
			lastPlan[ev.Email] = p
		}
	}
	rows, err := e.DB.Pool.Query(context.Background(), `SELECT email, marketing_opt_in, plan FROM customers ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	n, told := 0, 0
	for rows.Next() {
		var email, plan string
		var optIn bool
		require.NoError(t, rows.Scan(&email, &optIn, &plan))
		want := map[bool]string{true: "$subscribe", false: "$unsubscribe"}[optIn]
		require.Equal(t, want, lastSub[email], "last subscription event of %s", email)
		if p, ok := lastPlan[email]; ok {
			require.Equal(t, plan, p, "last plan Bento got for %s", email)
			told++
		}
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 40, n)
	require.Equal(t, 40-2, told, "customers 15 and 17 changed only their opt-in while their chunk was read")
}

// requirePlansInOrder: per customer, the plans Bento was told, repeats
// collapsed, are the database's history in order (free, then the changed
// plan when history names one): an older plan never follows a newer one.
func requirePlansInOrder(t *testing.T, received []bentotest.ReceivedEvent, history map[string][]string) {
	t.Helper()
	told := map[string][]string{}
	for _, ev := range received {
		p, ok := ev.Fields["plan"].(string)
		if !ok {
			continue
		}
		if seq := told[ev.Email]; len(seq) == 0 || seq[len(seq)-1] != p {
			told[ev.Email] = append(seq, p)
		}
	}
	for email, seq := range told {
		want, ok := history[email]
		if !ok {
			want = []string{"free"}
		}
		require.Subset(t, want, seq, "plans told to %s", email)
		for i := 1; i < len(seq); i++ {
			require.Less(t, slices.Index(want, seq[i-1]), slices.Index(want, seq[i]), "plans told to %s: %v", email, seq)
		}
	}
}

// requireEachPurchase: every paid order reached Bento, exactly once unless
// it is one of twice (then at most twice).
func requireEachPurchase(t *testing.T, e *env, twice map[string]bool) {
	t.Helper()
	keys := map[string]int{}
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$purchase" {
			keys[ev.UniqueKey()]++
		}
	}
	var paid int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE paid_at IS NOT NULL`).Scan(&paid))
	require.Len(t, keys, paid)
	for k, n := range keys {
		if twice[k] {
			require.LessOrEqual(t, n, 2, "order %s sent %d times", k, n)
			continue
		}
		require.Equal(t, 1, n, "order %s sent %d times", k, n)
	}
}

// TestBackfillInsideTheStreamResumesAfterAStop: a syncer stopped in the
// middle of a requested backfill leaves the request running; the next
// syncer resumes it after the last delivered chunk, so every row is sent
// and the delivered chunks are not sent again.
func TestBackfillInsideTheStreamResumesAfterAStop(t *testing.T) {
	e := newEnv(t, "backfill:\n  chunk_size: 10\n")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'r' || i || '@example.com', true FROM generate_series(1, 45) i`)
	reached := make(chan struct{})
	hooks := backfill.Hooks{AfterLow: func(ctx context.Context, _ string, chunk int64) {
		if chunk == 3 {
			close(reached)
			<-ctx.Done() // the syncer stops here, between chunk 3's watermarks
		}
	}}
	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond, BackfillHooks: hooks})
	store := backfill.NewRequestStore(e.DB.Pool, e.Cfg.Source.Schema)
	ctx := context.Background()
	id, err := store.Add(ctx, backfill.Request{Table: "customers"})
	require.NoError(t, err)
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatal("the backfill never reached its third chunk")
	}
	require.NoError(t, stop())
	r, err := store.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, backfill.StateRunning, r.State, "a stopped syncer leaves its request to the next one")
	require.EqualValues(t, 20, r.RowsDone)
	require.Len(t, e.Fake.Received(), 20)

	_, stop = e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond})
	waitRequest(t, store, id)
	require.NoError(t, stop())
	r, err = store.Get(ctx, id)
	require.NoError(t, err)
	require.EqualValues(t, 45, r.RowsDone)
	sent := map[string]int{}
	for _, ev := range e.Fake.Received() {
		sent[ev.Email]++
	}
	require.Len(t, sent, 45, "every customer's $subscribe arrived")
	for email, n := range sent {
		require.Equal(t, 1, n, "%s sent %d times", email, n)
	}
}
