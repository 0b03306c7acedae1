package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/reconcile"
)

// TestReplayedPurchaseIsInTheLedger (R5/U1): a purchase dead letter that
// `cdc dlq replay` sends, by itself or handed to the running syncer, is
// recorded in the ledger (origin replay), so `cdc log --key` shows it and
// `cdc reconcile --dry-run` finds no drift.
func TestReplayedPurchaseIsInTheLedger(t *testing.T) {
	for _, handOff := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "handed-off"}[handOff]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "")
			ctx := context.Background()
			stop := e.Start(t)
			purchaseDeadLetters(t, e)
			if !handOff {
				require.NoError(t, stop())
			}
			e.DB.Exec(t, `UPDATE customers SET email = 'fixed@example.com' WHERE id = 1`)
			waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			res, err := ops.Replay(waitCtx, e.Cfg, nil, "test")
			require.NoError(t, err)
			require.Len(t, res.Replayed, 2, "%+v", res.Failed)
			if handOff {
				require.NoError(t, stop())
			}

			got, err := ledger.Find(ctx, e.DB.Pool, e.Cfg.Source.Schema, ledger.Query{Key: "1"})
			require.NoError(t, err)
			var purchases int
			for _, g := range got {
				require.Equal(t, ledger.OriginReplay, g.Origin)
				if g.Type == "$purchase" {
					purchases++
					require.Equal(t, "fixed@example.com", g.Email)
					require.EqualValues(t, 1000, *g.Amount)
				}
			}
			require.Equal(t, 1, purchases, "cdc log --key 1 shows the replayed purchase: %+v", got)

			rep, err := reconcile.Run(ctx, reconcile.Options{Pool: e.DB.Pool, Rules: e.Cfg.Compiled, Schema: e.Cfg.Source.Schema,
				DryRun: true, Ledger: e.Cfg.Ledger, Since: time.Now().Add(-time.Hour)})
			require.NoError(t, err)
			require.False(t, rep.Drift(), "reconcile --dry-run after the replay: %+v", rep.Customers)
		})
	}
}
