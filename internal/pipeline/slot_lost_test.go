package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/pglocal"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
	"github.com/pgbento/cdc/internal/replication"
)

// envOnOwnServer starts a Postgres of the test's own with settings (a small
// max_slot_wal_keep_size must not invalidate other tests' slots).
func envOnOwnServer(t *testing.T, settings map[string]string) *env {
	t.Helper()
	bindir, err := pglocal.FindBindir()
	require.NoError(t, err)
	ctx := context.Background()
	srv, err := pglocal.Start(ctx, bindir, pglocal.Options{Settings: settings})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	dsn := srv.DSN("postgres")
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return &env{pipelinetest.NewEnvOn(t, &pgtest.DB{Name: "postgres", DSN: dsn, Pool: pool}, examples.Schema, examples.Rules, "")}
}

// invalidateSlot churns WAL (writes, pg_switch_wal, CHECKPOINT) until the
// server invalidates the stopped syncer's slot for real.
func (e *env) invalidateSlot(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for i := 0; ; i++ {
		var status string
		require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`,
			e.Cfg.Source.Slot).Scan(&status))
		if status == "lost" {
			return
		}
		require.Less(t, i, 50, "the slot was never invalidated (wal_status %s)", status)
		e.DB.Exec(t, `INSERT INTO customers (email) SELECT 'churn' || $1::int || '-' || g || '@example.com' FROM generate_series(1, 100) g`, i)
		e.DB.Exec(t, `SELECT pg_switch_wal()`)
		e.DB.Exec(t, `CHECKPOINT`)
	}
}

// payOrders inserts n paid orders spread over the first 10 customers.
func (e *env) payOrders(t *testing.T, n int, total string) {
	t.Helper()
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at)
		SELECT 1 + g % 10, 'paid', $1::numeric, now() FROM generate_series(1, $2::int) g`, total, n)
}

// TestLostSlotStopsOrResyncs: the slot is invalidated for real while the
// syncer is stopped and orders keep being paid. With on_slot_lost: stop the
// syncer refuses with the recovery; with resync it re-creates the slot and
// re-sends current state from its snapshot, so every paid order's purchase
// reaches the stand-in and each customer's total equals the database's.
func TestLostSlotStopsOrResyncs(t *testing.T) {
	e := envOnOwnServer(t, map[string]string{"max_slot_wal_keep_size": "1MB", "wal_keep_size": "0"})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || g || '@example.com', true FROM generate_series(1, 10) g`)
	stop := e.Start(t)
	e.payOrders(t, 20, "3.10")
	e.waitTotals(t)
	require.NoError(t, stop())

	e.payOrders(t, 15, "7.25") // in the gap: the slot will never deliver these
	e.DB.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (1, 99.99)`)
	e.invalidateSlot(t)
	e.DB.Exec(t, `UPDATE orders SET status = 'paid', paid_at = now() WHERE status = 'pending'`)

	err := pipeline.New(e.Cfg, pipeline.Options{}).Run(context.Background())
	var lost *replication.SlotLostError
	require.ErrorAs(t, err, &lost)
	require.Equal(t, "invalidated", lost.Why)
	require.Contains(t, err.Error(), "on_slot_lost: resync")
	require.Contains(t, err.Error(), "cdc setup --resync")

	e.Cfg.Source.OnSlotLost = replication.OnSlotLostResync
	stop = e.Start(t)
	e.payOrders(t, 5, "1.01") // after the resync: the new slot's stream
	e.waitTotals(t)
	require.NoError(t, stop())
	requireEachPurchaseArrived(t, e)
}

// requireEachPurchaseArrived: every paid order's unique key reached the
// stand-in (a resync may send one again; Bento counts it once).
func requireEachPurchaseArrived(t *testing.T, e *env) {
	t.Helper()
	got := map[string]bool{}
	for _, ev := range e.Fake.Received() {
		if ev.Type == "$purchase" {
			got[ev.UniqueKey()] = true
		}
	}
	rows, err := e.DB.Pool.Query(context.Background(), `SELECT id::text FROM orders WHERE paid_at IS NOT NULL`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		require.True(t, got[id], "paid order %s never reached the stand-in", id)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 41, n)
}

// TestRecreatedSlotIsDetected: a slot dropped and re-created under the same
// name while the syncer is stopped is not the slot the checkpoint counts in;
// the syncer refuses to stream from it.
func TestRecreatedSlotIsDetected(t *testing.T) {
	e := newEnv(t, "")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || g || '@example.com', true FROM generate_series(1, 10) g`)
	stop := e.Start(t)
	e.payOrders(t, 5, "2.00")
	e.waitTotals(t)
	require.NoError(t, stop())
	// A clean restart is not mistaken for a new slot, even after the idle
	// reader confirmed WAL beyond the checkpoint.
	stop = e.Start(t)
	require.NoError(t, stop())

	slot := e.Cfg.Source.Slot
	e.DB.Exec(t, `SELECT pg_drop_replication_slot($1)`, slot)
	e.payOrders(t, 3, "4.00") // lost with the old slot
	e.DB.Exec(t, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, slot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := pipeline.New(e.Cfg, pipeline.Options{}).Run(ctx)
	var lost *replication.SlotLostError
	require.ErrorAs(t, err, &lost)
	require.Equal(t, "re-created", lost.Why)
}
