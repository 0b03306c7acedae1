package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/pipeline"
)

// TestBackfillWindowSeesDeletesByAnotherIdentityIndex (R6): customers'
// replica identity is its email index, so a delete's old row carries the
// email only, not the primary key the chunk is keyed by. A customer deleted
// between its chunk's watermarks must not be sent after its delete: the
// chunk counts as changed and is read again, without the deleted row.
func TestBackfillWindowSeesDeletesByAnotherIdentityIndex(t *testing.T) {
	e := newEnv(t, "backfill:\n  chunk_size: 10\n")
	e.DB.Exec(t, `ALTER TABLE customers REPLICA IDENTITY USING INDEX customers_email_key`)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || i || '@example.com', true FROM generate_series(1, 30) i`)
	w := &raceWrites{beforeHigh: map[string]string{
		"public.customers/2": `DELETE FROM customers WHERE id = 15`, // chunk 2 holds it, read before the delete
	}}
	_, stop := e.StartWith(t, pipeline.Options{BackfillPoll: 20 * time.Millisecond, BackfillHooks: w.hooks(e)})
	store := backfill.NewRequestStore(e.DB.Pool, e.Cfg.Source.Schema)
	id, err := store.Add(context.Background(), backfill.Request{Table: "public.customers"})
	require.NoError(t, err)
	waitRequest(t, store, id)
	require.NoError(t, stop())
	require.Equal(t, []error{nil}, w.errs, "the racing delete ran")

	sent := map[string]int{}
	for _, ev := range e.Fake.Received() {
		sent[ev.Email]++
	}
	require.NotContains(t, sent, "c15@example.com", "a customer deleted between the watermarks was sent after its delete")
	require.Len(t, sent, 29, "every other customer's $subscribe arrived")
	for email, n := range sent {
		require.Equal(t, 1, n, "%s sent %d times", email, n)
	}
	r, err := store.Get(context.Background(), id)
	require.NoError(t, err)
	require.Zero(t, r.Dropped, "the chunk was read again")
}
