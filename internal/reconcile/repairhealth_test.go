package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/reconcile"
)

// TestRepairDeadLettersHaveNoPosition (R7): a repair Bento rejects is
// dead-lettered without a made-up stream position, its reason naming the
// reconcile repair.
func TestRepairDeadLettersHaveNoPosition(t *testing.T) {
	e := newEnv(t)
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bob@example.com" })
	e.reconcile(t, false)
	dls, err := bento.NewDeadLetterStore(e.DB.Pool, "cdc").List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.True(t, dls[0].Pos.IsZero(), "no stream position: %s", dls[0].Pos)
	require.Zero(t, e.count(t, `SELECT count(*) FROM cdc.dead_letters WHERE commit_lsn IS NOT NULL`))
	require.True(t, strings.HasPrefix(dls[0].Reason, reconcile.DeadLetterOrigin+": "), dls[0].Reason)
}

// TestHaltedRepairIsReported (R7): while Bento refuses the repair sender's
// credentials (401), Options.Health (the syncer's Ready) says so; once the
// repair ended it reports nothing.
func TestHaltedRepairIsReported(t *testing.T) {
	e := newEnv(t)
	e.Fake.SetFault(&bentotest.Response{Status: 401, Body: `{"error":"unauthorized"}`})
	var h reconcile.Health
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = reconcile.Run(ctx, reconcile.Options{Pool: e.DB.Pool, Rules: e.Cfg.Compiled, Schema: "cdc",
			Bento: e.Cfg.Bento, Health: &h})
	}()
	require.Eventually(t, func() bool {
		ok, why := h.Healthy()
		return !ok && strings.Contains(why, "401")
	}, 30*time.Second, 20*time.Millisecond, "the halted repair shows in Ready")
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("reconcile did not stop")
	}
	ok, why := h.Healthy()
	require.True(t, ok, why)
}
