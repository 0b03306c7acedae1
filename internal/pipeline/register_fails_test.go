package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/replication"
)

// failRegisterOnce makes the next write to <schema>.backfill fail, once:
// the first-time backfill's registration. The counter is a sequence, so the
// failed transaction's rollback does not undo it.
func (e *env) failRegisterOnce(t *testing.T) {
	t.Helper()
	table := pgx.Identifier{e.Cfg.Source.Schema, "backfill"}.Sanitize()
	e.DB.Exec(t, `CREATE SEQUENCE backfill_writes`)
	e.DB.Exec(t, `CREATE FUNCTION fail_first_backfill_write() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('backfill_writes') = 1 THEN
				RAISE EXCEPTION 'test: the first backfill registration fails';
			END IF;
			RETURN NEW;
		END $$`)
	e.DB.Exec(t, `CREATE TRIGGER fail_first_write BEFORE INSERT OR UPDATE ON `+table+
		` FOR EACH ROW EXECUTE FUNCTION fail_first_backfill_write()`)
}

// dropSlotWhenReleased drops the stopped syncer's slot once the server
// has let go of it (its walsender may outlive the stop briefly).
func (e *env) dropSlotWhenReleased(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		var active bool
		err := e.DB.Pool.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = $1`,
			e.Cfg.Source.Slot).Scan(&active)
		return err == nil && !active
	}, 30*time.Second, 20*time.Millisecond, "the server never released the slot")
	e.DB.Exec(t, `SELECT pg_drop_replication_slot($1)`, e.Cfg.Source.Slot)
}

// runFails runs a syncer that must fail before it streams, with the
// registration's error.
func (e *env) runFails(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := pipeline.New(e.Cfg, pipeline.Options{Ready: func() { t.Error("the syncer streamed although its backfill could not be registered") }}).Run(ctx)
	require.ErrorContains(t, err, "the first backfill registration fails")
}

// TestFailedResyncRegistrationIsResyncedAgain (R1): a resync whose
// registration of the tables to backfill fails leaves the slot counted as
// lost, so the next start resyncs again instead of streaming past the gap:
// the totals at the stand-in equal the database's.
func TestFailedResyncRegistrationIsResyncedAgain(t *testing.T) {
	e := newEnv(t, "")
	e.Cfg.Source.OnSlotLost = replication.OnSlotLostResync
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || g || '@example.com', true FROM generate_series(1, 10) g`)
	stop := e.Start(t)
	e.payOrders(t, 20, "3.10")
	e.waitTotals(t)
	require.NoError(t, stop())

	e.dropSlotWhenReleased(t)
	e.payOrders(t, 15, "7.25") // in the gap: no slot reads these
	e.failRegisterOnce(t)
	e.runFails(t)

	stop = e.Start(t)
	e.payOrders(t, 5, "1.01") // after the resync: the new slot's stream
	e.waitTotals(t)
	require.NoError(t, stop())
}

// TestFailedFirstRegistrationBackfillsOnTheNextStart (R1): with
// backfill.on_create, a first start whose registration of the tables fails
// creates no slot, so the next start creates it and backfills the rows that
// existed before it: the totals at the stand-in equal the database's.
func TestFailedFirstRegistrationBackfillsOnTheNextStart(t *testing.T) {
	e := newEnv(t, "backfill:\n  on_create: true\n")
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'c' || g || '@example.com', true FROM generate_series(1, 10) g`)
	e.payOrders(t, 20, "3.10") // before any slot: only the backfill sends these
	e.DB.Migrate(t, e.Cfg.Source.Schema)
	e.failRegisterOnce(t)
	e.runFails(t)

	stop := e.Start(t)
	e.payOrders(t, 5, "1.01")
	e.waitTotals(t)
	require.NoError(t, stop())
}
