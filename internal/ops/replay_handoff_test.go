package ops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/ops"
)

// Issue 11, item 8: `cdc dlq replay` while the syncer runs hands the dead
// letters to it: the syncer sends them (its User-Agent, its limiter), the
// command reports what was replayed.
func TestReplayWhileTheSyncerRunsIsHandedToIt(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool { return ev.Email == "bad@example.com" })
	stop := e.Start(t)
	defer func() { require.NoError(t, stop()) }()
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true), ('bad@example.com', true)`)
	store, closeStore, err := ops.DeadLetters(ctx, e.Cfg)
	require.NoError(t, err)
	defer closeStore()
	require.Eventually(t, func() bool {
		n, err := store.Count(ctx)
		return err == nil && n == 1
	}, 30*time.Second, 20*time.Millisecond)

	e.Fake.RejectWhen(nil)
	before := len(e.Fake.Requests())
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	handed := false
	res, err := ops.ReplayNoting(waitCtx, e.Cfg, nil, "replay-command", func() { handed = true })
	require.NoError(t, err)
	require.True(t, handed, "the command says the running syncer replays with its own rules (U8)")
	require.Len(t, res.Replayed, 1, "%+v", res.Failed)
	reqs := e.Fake.Requests()[before:]
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		require.False(t, strings.Contains(r.Header.Get("User-Agent"), "replay-command"), "the command sent a request itself")
	}
	n, err := store.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
