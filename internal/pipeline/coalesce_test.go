package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// Issue 14, item 6: with bento.coalesce_fields, a transaction that updates
// one customer three times (and another customer in between) reaches Bento
// as one $update_fields with the latest values, a field the last update
// cleared left out; the ledger (all) records what Bento received, at the
// last update's position; the checkpoint covers every update, so a restart
// sends none of them again.
func TestCoalescedFieldUpdatesOfOneTransaction(t *testing.T) {
	checkLeaks(t)
	e := newEnv(t, "ledger: all\n")
	e.Cfg.Bento.CoalesceFields = true
	// Before the slot exists: no events.
	e.DB.Exec(t, `INSERT INTO customers (email, first_name, last_name, plan) VALUES
		('ann@example.com', 'Ann', 'Lee', 'free'), ('bob@example.com', 'Bob', 'Ray', 'free')`)
	reg := prometheus.NewRegistry()
	_, stop := e.StartWith(t, pipeline.Options{Registry: reg})

	// Cy's subscribe is held at Bento while the transaction's events queue
	// up behind it, so they wait in one batch.
	e.Fake.Script(bentotest.Response{Hang: true})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('cy@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Requests()) == 1 }, 30*time.Second, 10*time.Millisecond)
	e.DB.Exec(t, `BEGIN;
		UPDATE customers SET first_name = 'Anna' WHERE email = 'ann@example.com';
		UPDATE customers SET first_name = 'Bobby' WHERE email = 'bob@example.com';
		UPDATE customers SET last_name = NULL WHERE email = 'ann@example.com';
		UPDATE customers SET first_name = 'Annie' WHERE email = 'ann@example.com';
		COMMIT`)
	require.Eventually(t, func() bool { return metricSum(t, reg, "cdc_bento_queue_depth") == 5 }, 30*time.Second, 10*time.Millisecond,
		"Cy's subscribe and the transaction's four updates wait for delivery")
	e.Fake.Interrupt() // Cy's request fails; its retry goes through
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 3 }, 30*time.Second, 10*time.Millisecond)
	e.waitLedgerRows(t, 3)
	require.NoError(t, stop())

	updates := map[string]bentotest.ReceivedEvent{}
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$update_fields" {
			_, twice := updates[ev.Email]
			require.False(t, twice, "one $update_fields for %s", ev.Email)
			updates[ev.Email] = ev
		}
	}
	require.Equal(t, map[string]any{"first_name": "Annie", "plan": "free"}, updates["ann@example.com"].Fields,
		"the latest values; the cleared last_name left out (send_nulls is off), not sent as Lee")
	require.Equal(t, map[string]any{"first_name": "Bobby", "last_name": "Ray", "plan": "free"}, updates["bob@example.com"].Fields)
	require.Equal(t, updates["ann@example.com"].Request, updates["bob@example.com"].Request, "one request")
	require.Equal(t, 2.0, metricSum(t, reg, "cdc_bento_events_coalesced_total"))

	ctx := context.Background()
	var annIndex, bobIndex, beyond int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT
		(SELECT change_index FROM cdc.ledger WHERE email = 'ann@example.com'),
		(SELECT change_index FROM cdc.ledger WHERE email = 'bob@example.com')`).Scan(&annIndex, &bobIndex))
	require.Greater(t, annIndex, bobIndex, "Ann's merged event is recorded at her last update, after Bob's")
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM cdc.ledger l, cdc.checkpoint c
		WHERE (l.commit_lsn, l.change_index, l.event_sub) > (c.commit_lsn, c.change_index, c.event_sub)`).Scan(&beyond))
	require.Zero(t, beyond, "a ledger row beyond the saved checkpoint")

	stop = e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('dee@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 4 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())
	require.Equal(t, "dee@example.com", e.Fake.Received()[3].Email, "after a restart nothing of the transaction is sent again")
}

// By default every update of the same transaction reaches Bento.
func TestFieldUpdatesNotCoalescedByDefault(t *testing.T) {
	e := newEnv(t, "")
	require.False(t, e.Cfg.Bento.CoalesceFields)
	e.DB.Exec(t, `INSERT INTO customers (email, first_name) VALUES ('ann@example.com', 'Ann')`)
	stop := e.Start(t)
	e.DB.Exec(t, `BEGIN;
		UPDATE customers SET first_name = 'Anna';
		UPDATE customers SET first_name = 'Annie';
		COMMIT`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 2 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())
	var names []any
	for _, ev := range e.Fake.Received() {
		names = append(names, ev.Fields["first_name"])
	}
	require.Equal(t, []any{"Anna", "Annie"}, names)
}

// waitLedgerRows waits until the ledger holds n rows: they are written with
// the acknowledgement, after Bento answered.
func (e *env) waitLedgerRows(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var got int
		require.NoError(t, e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cdc.ledger`).Scan(&got))
		return got == n
	}, 30*time.Second, 20*time.Millisecond, "the ledger never held %d rows", n)
}
