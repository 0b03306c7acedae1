package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pipeline"
)

func findingsText(fs []pipeline.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(string(f.Severity) + " " + f.What + " | " + f.Fix + " | " + f.SQL + "\n")
	}
	return b.String()
}

func TestCheckReportsEveryProblemAndSetupFixesWhatItCan(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.db.Exec(t, `ALTER TABLE orders REPLICA IDENTITY DEFAULT; ALTER TABLE customers DROP COLUMN plan`)

	fs, err := pipeline.Check(ctx, e.cfg)
	require.NoError(t, err)
	text := findingsText(fs)
	require.False(t, pipeline.Runnable(fs), text)
	require.Contains(t, text, `"plan"`, "the dropped column a rule uses")
	require.Contains(t, text, "ALTER TABLE public.orders REPLICA IDENTITY FULL;")
	require.Contains(t, text, `publication "cdc_bento" does not exist`)
	require.Contains(t, text, `replication slot "cdc_bento" does not exist`)
	require.Contains(t, text, `schema "cdc" is not set up`)

	e.db.Exec(t, `ALTER TABLE customers ADD COLUMN plan text`)
	e.cfg.Backfill.OnCreate = true
	res, err := pipeline.Setup(ctx, e.cfg)
	require.NoError(t, err)
	require.Len(t, res.Ran, 2, "schema, publication; the slot is left for run's snapshot backfill: %v", res.Ran)
	require.Len(t, res.Notes, 1)
	e.cfg.Backfill.OnCreate = false
	res, err = pipeline.Setup(ctx, e.cfg)
	require.NoError(t, err)
	require.Len(t, res.Ran, 1, "now the slot: %v", res.Ran)
	require.Contains(t, findingsText(res.Others), "REPLICA IDENTITY FULL", "left for someone else")

	e.db.Exec(t, `ALTER TABLE orders REPLICA IDENTITY FULL`)
	fs, err = pipeline.Check(ctx, e.cfg)
	require.NoError(t, err)
	require.True(t, pipeline.Runnable(fs), findingsText(fs))
	for _, f := range fs {
		require.NotEqual(t, pipeline.SevWarn, f.Severity, findingsText(fs))
	}
}

func TestStatusShowsCheckpointLagAndDeadLetters(t *testing.T) {
	e := newEnv(t, "")
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ok@example.com', true), ('not an email', true)`)
	require.Eventually(t, func() bool { return len(e.fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())

	st, err := pipeline.ReadStatus(context.Background(), e.cfg)
	require.NoError(t, err)
	require.NotNil(t, st.Slot)
	require.NotNil(t, st.Checkpoint)
	require.NotEmpty(t, st.Checkpoint.EndLSN)
	require.Equal(t, int64(1), st.DeadLetters)
	require.GreaterOrEqual(t, st.Slot.LagBytes, int64(0))
}

func TestReplayRuleDeadLetterAfterFixingTheRow(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('broken-address', false)`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
	store, closeStore, err := pipeline.DeadLetters(ctx, e.cfg)
	require.NoError(t, err)
	defer closeStore()
	require.Eventually(t, func() bool {
		n, err := store.Count(ctx)
		return err == nil && n == 2 // purchase_on_paid and lifetime_value: both need the email
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	require.Empty(t, e.fake.PurchaseTotals())

	// Fix the customer's email; the lookup sees it on replay.
	e.db.Exec(t, `UPDATE customers SET email = 'fixed@example.com' WHERE id = 1`)
	res, err := pipeline.Replay(ctx, e.cfg, nil, "test")
	require.NoError(t, err)
	require.Len(t, res.Replayed, 2, "%+v", res.Failed)
	require.Equal(t, map[string]int64{"fixed@example.com": 1000}, e.fake.PurchaseTotals())
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestRejectedEventIsDeadLetteredAndReplayed(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bad@example.com" })
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true), ('bad@example.com', true), ('c@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.fake.Received()) == 2 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	store, closeStore, err := pipeline.DeadLetters(ctx, e.cfg)
	require.NoError(t, err)
	defer closeStore()
	dls, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, bento.KindRejected, dls[0].Kind)
	require.Contains(t, []int{200, 422}, dls[0].Status, "the Events API names the rejected event")

	e.fake.RejectWhen(nil)
	res, err := pipeline.Replay(ctx, e.cfg, nil, "test")
	require.NoError(t, err)
	require.Equal(t, []int64{dls[0].ID}, res.Replayed)
	require.Len(t, e.fake.Received(), 3)
}

func TestStandbyWaitsAndTakesOver(t *testing.T) {
	e := newEnv(t, "standby: true\n")
	stopFirst := e.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := pipeline.New(e.cfg, pipeline.Options{})
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	require.Eventually(t, func() bool {
		ok, why := second.Ready()
		return !ok && strings.HasPrefix(why, "standby")
	}, 20*time.Second, 20*time.Millisecond)

	require.NoError(t, stopFirst())
	require.Eventually(t, func() bool { ok, _ := second.Ready(); return ok }, 30*time.Second, 50*time.Millisecond)
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('later@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestSecondInstanceWithoutStandbyFails(t *testing.T) {
	e := newEnv(t, "")
	e.start(t)
	err := pipeline.New(e.cfg, pipeline.Options{}).Run(context.Background())
	require.ErrorContains(t, err, "another cdc instance is running")
}

// TestMissingSlotWithCheckpointRefusesToStart: a slot dropped while a
// checkpoint exists means changes were never read; the syncer says so
// instead of silently creating a new slot at today's WAL.
func TestMissingSlotWithCheckpointRefusesToStart(t *testing.T) {
	e := newEnv(t, "")
	stop := e.start(t)
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	e.db.Exec(t, `SELECT pg_drop_replication_slot('cdc_bento')`)

	err := pipeline.New(e.cfg, pipeline.Options{}).Run(context.Background())
	require.ErrorContains(t, err, `replication slot "cdc_bento" is missing but a checkpoint exists`)
	_, err = pipeline.Setup(context.Background(), e.cfg)
	require.ErrorContains(t, err, "DELETE FROM cdc.checkpoint")
}

// TestLosingTheLockStopsAtOnce: when another holder takes the leader lock
// (here the test itself, after cutting the leader's lock connection), the
// old leader stops with an error instead of draining next to the new one.
func TestLosingTheLockStopsAtOnce(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	s := pipeline.New(e.cfg, pipeline.Options{})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool { ok, _ := s.Ready(); return ok }, 30*time.Second, 20*time.Millisecond)

	conn, err := e.db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('cdc-bento:' || 'cdc_bento')::bigint)`)
	require.NoError(t, err)
	select {
	case err := <-done:
		require.ErrorContains(t, err, "lost the leader lock")
	case <-time.After(30 * time.Second):
		t.Fatal("the old leader kept running")
	}
}
