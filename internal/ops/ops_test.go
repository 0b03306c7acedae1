package ops_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
	"github.com/pgbento/cdc/migrations"
)

// env is one test's world.
type env struct{ *pipelinetest.Env }

func newEnv(t *testing.T, extra string) *env { return &env{pipelinetest.NewEnv(t, extra)} }

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// requireRan checks that ran is want with one line for every migration,
// in order, after its first statement (the schema).
func requireRan(t *testing.T, ran []string, want ...string) {
	t.Helper()
	var other []string
	var seq int
	for _, line := range ran {
		if strings.HasPrefix(line, "-- migration ") {
			seq++
			require.True(t, strings.HasPrefix(line, fmt.Sprintf("-- migration %d: ", seq)), line)
			continue
		}
		other = append(other, line)
	}
	require.Equal(t, int(migrations.Latest()), seq, "every migration is reported")
	require.Equal(t, want, other)
}

func findingsText(fs []ops.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(string(f.Severity) + " " + f.What + " | " + f.Fix + " | " + f.SQL + "\n")
	}
	return b.String()
}

func TestCheckReportsEveryProblemAndSetupFixesWhatItCan(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.DB.Exec(t, `ALTER TABLE orders REPLICA IDENTITY DEFAULT; ALTER TABLE customers DROP COLUMN plan`)

	fs, err := ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	text := findingsText(fs)
	require.False(t, ops.Runnable(fs), text)
	require.Contains(t, text, `"plan"`, "the dropped column a rule uses")
	require.Contains(t, text, "ALTER TABLE public.orders REPLICA IDENTITY FULL;")
	require.Contains(t, text, `publication "cdc_bento" does not exist`)
	require.Contains(t, text, `replication slot "cdc_bento" does not exist`)
	require.Contains(t, text, `schema "cdc" does not exist yet`)

	e.DB.Exec(t, `ALTER TABLE customers ADD COLUMN plan text`)
	e.Cfg.Backfill.OnCreate = true
	res, err := ops.Setup(ctx, e.Cfg)
	require.NoError(t, err)
	requireRan(t, res.Ran, "CREATE SCHEMA cdc;",
		`CREATE PUBLICATION "cdc_bento" FOR TABLE "public"."customers", "public"."orders";`)
	require.Len(t, res.Ran, 2+int(migrations.Latest()),
		"schema, publication; the slot is left for run's snapshot backfill")
	require.Len(t, res.Notes, 1)
	require.Contains(t, res.Notes[0], "left for `cdc run` to create")
	// check agrees with setup: no warning about the slot run creates (U12).
	fs, err = ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	text = findingsText(fs)
	require.Contains(t, text, "the first cdc run creates it and backfills the existing rows from its snapshot")
	for _, f := range fs {
		if strings.Contains(f.What, "slot") {
			require.NotEqual(t, ops.SevWarn, f.Severity, text)
		}
	}
	e.Cfg.Backfill.OnCreate = false
	res, err = ops.Setup(ctx, e.Cfg)
	require.NoError(t, err)
	require.Len(t, res.Ran, 1, "now the slot: %v", res.Ran)
	require.Contains(t, findingsText(res.Others), "REPLICA IDENTITY FULL", "left for someone else")
	require.False(t, ops.Runnable(res.Others), "setup exits 3 while rules read old values without FULL")

	e.DB.Exec(t, `ALTER TABLE orders REPLICA IDENTITY FULL`)
	fs, err = ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	require.True(t, ops.Runnable(fs), findingsText(fs))
	for _, f := range fs {
		require.NotEqual(t, ops.SevWarn, f.Severity, findingsText(fs))
	}
}

func TestStatusShowsCheckpointLagAndDeadLetters(t *testing.T) {
	e := newEnv(t, "")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ok@example.com', true), ('not an email', true)`)
	ctx := context.Background()
	store, closeStore, err := ops.DeadLetters(ctx, e.Cfg)
	require.NoError(t, err)
	defer closeStore()
	// The event and the dead letter are delivered independently: stopping
	// after the event alone may hand the bad row back unread.
	require.Eventually(t, func() bool {
		n, err := store.Count(ctx)
		return err == nil && n == 1 && len(e.Fake.Received()) == 1
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	e.DB.WaitSlotReleased(t, e.Cfg.Source.Slot)

	st, err := ops.ReadStatus(ctx, e.Cfg)
	require.NoError(t, err)
	require.NotNil(t, st.Slot)
	require.NotNil(t, st.Checkpoint)
	require.NotEmpty(t, st.Checkpoint.EndLSN)
	require.Equal(t, int64(1), st.DeadLetters)
	require.GreaterOrEqual(t, st.Slot.LagBytes, int64(0))
	require.Positive(t, st.Slot.RetainedBytes, "the slot keeps at least the WAL since its restart_lsn")
	require.Nil(t, st.Reconcile, "no reconcile ran")
}

// purchaseDeadLetters makes, with a syncer running, a paid order of a
// customer without a valid email: two dead letters (purchase_on_paid and
// lifetime_value both need the email). It returns their store.
func purchaseDeadLetters(t *testing.T, e *env) *bento.DeadLetterStore {
	t.Helper()
	ctx := context.Background()
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('broken-address', false)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
	store, closeStore, err := ops.DeadLetters(ctx, e.Cfg)
	require.NoError(t, err)
	t.Cleanup(closeStore)
	require.Eventually(t, func() bool {
		n, err := store.Count(ctx)
		return err == nil && n == 2
	}, 30*time.Second, 20*time.Millisecond)
	return store
}

func TestReplayRuleDeadLetterAfterFixingTheRow(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	stop := e.Start(t)
	store := purchaseDeadLetters(t, e)
	require.NoError(t, stop())
	require.Empty(t, e.Fake.PurchaseTotals())

	// Fix the customer's email; the lookup sees it on replay.
	e.DB.Exec(t, `UPDATE customers SET email = 'fixed@example.com' WHERE id = 1`)
	res, err := ops.Replay(ctx, e.Cfg, nil, "test")
	require.NoError(t, err)
	require.Len(t, res.Replayed, 2, "%+v", res.Failed)
	require.Equal(t, map[string]int64{"fixed@example.com": 1000}, e.Fake.PurchaseTotals())
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestRejectedEventIsDeadLetteredAndReplayed(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bad@example.com" })
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true), ('bad@example.com', true), ('c@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 2 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	store, closeStore, err := ops.DeadLetters(ctx, e.Cfg)
	require.NoError(t, err)
	defer closeStore()
	dls, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, bento.KindRejected, dls[0].Kind)
	require.Contains(t, []int{200, 422}, dls[0].Status, "the Events API names the rejected event")

	e.Fake.RejectWhen(nil)
	res, err := ops.Replay(ctx, e.Cfg, nil, "test")
	require.NoError(t, err)
	require.Equal(t, []int64{dls[0].ID}, res.Replayed)
	require.Len(t, e.Fake.Received(), 3)
}

// TestMissingSlotWithCheckpointRefusesToStart: a slot dropped while a
// checkpoint exists means changes were never read; the syncer says so
// instead of silently creating a new slot at today's WAL.
func TestMissingSlotWithCheckpointRefusesToStart(t *testing.T) {
	e := newEnv(t, "")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	e.DB.WaitSlotReleased(t, e.Cfg.Source.Slot)
	e.DB.Exec(t, `SELECT pg_drop_replication_slot('cdc_bento')`)

	err := pipeline.New(e.Cfg, pipeline.Options{}).Run(context.Background())
	require.ErrorContains(t, err, `replication slot "cdc_bento" was lost (missing`)
	_, err = ops.Setup(context.Background(), e.Cfg)
	require.ErrorContains(t, err, "cdc setup --resync")

	// check gives the same diagnosis, as an error (exit 3), and does not
	// promise that setup creates the slot.
	fs, err := ops.Check(context.Background(), e.Cfg)
	require.NoError(t, err)
	require.False(t, ops.Runnable(fs), findingsText(fs))
	text := findingsText(fs)
	require.Contains(t, text, `error replication slot "cdc_bento" was lost (missing`)
	require.Contains(t, text, "cdc setup --resync")
	require.NotContains(t, text, "creates it")
	require.NoError(t, ops.CheckResync(context.Background(), e.Cfg), "a lost slot may be resynced by hand")

	// cdc setup --resync: a new slot, and the current rows sent again from its snapshot.
	require.NoError(t, pipeline.Resync(context.Background(), e.Cfg, pipeline.Options{}))
	require.Len(t, e.Fake.Received(), 2, "the customer's $subscribe again, from the new slot's snapshot")
	require.ErrorContains(t, ops.CheckResync(context.Background(), e.Cfg), "is healthy")
	stop = e.Start(t)
	require.NoError(t, stop())
}

// TestOldRowDeadLetterCannotBeReplayed: a rule reading old on a table
// without REPLICA IDENTITY FULL is a check error naming the rules and the
// ALTER TABLE; the dead letters its updates make cannot be replayed even
// after the fix (the change has no old row), and each replay is recorded
// as an attempt (issue 15.5).
func TestOldRowDeadLetterCannotBeReplayed(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.DB.Exec(t, `ALTER TABLE orders REPLICA IDENTITY DEFAULT`)
	fs, err := ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	require.False(t, ops.Runnable(fs), findingsText(fs))
	require.Contains(t, findingsText(fs), "error table public.orders has REPLICA IDENTITY DEFAULT but rules purchase_on_paid, order_refunded, order_shipped")
	require.Contains(t, findingsText(fs), "| ALTER TABLE public.orders REPLICA IDENTITY FULL;")

	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('old@example.com', false)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total) VALUES (1, 'pending', 10.00)`)
	e.DB.Exec(t, `UPDATE orders SET status = 'paid', paid_at = now()`)
	store, closeStore, err := ops.DeadLetters(ctx, e.Cfg)
	require.NoError(t, err)
	defer closeStore()
	require.Eventually(t, func() bool {
		n, err := store.Count(ctx)
		return err == nil && n > 0
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	e.DB.Exec(t, `ALTER TABLE orders REPLICA IDENTITY FULL`)

	before, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	res, err := ops.Replay(ctx, e.Cfg, nil, "test")
	require.NoError(t, err)
	require.Empty(t, res.Replayed)
	require.Len(t, res.Failed, len(before))
	after, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, after, len(before))
	for i, d := range after {
		require.Equal(t, before[i].Attempts+1, d.Attempts, "replay records the attempt of %d", d.ID)
		require.Contains(t, d.Reason, "REPLICA IDENTITY FULL")
	}
}
