package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/ledger"
)

func TestLedgerAndReconcileDefaults(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://u@localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(eventsAPIHead+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, ledger.ModePurchases, cfg.Ledger)
	require.Equal(t, 30*24*time.Hour, cfg.LedgerRetention)
	require.Zero(t, cfg.Reconcile.Every, "reconcile is off by default")

	cfg, err = Parse("cdc.yaml", []byte(eventsAPIHead+"ledger: \"off\"\nreconcile:\n  every: 6h\n"+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, ledger.ModeOff, cfg.Ledger)
	require.Equal(t, 6*time.Hour, cfg.Reconcile.Every)

	cfg, err = Parse("cdc.yaml", []byte(eventsAPIHead+"ledger: off\n"+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, ledger.ModeOff, cfg.Ledger, "a bare off is the string, not a boolean")
}

func TestLedgerAndReconcileErrorsHaveLines(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://u@localhost/db")
	_, err := Parse("cdc.yaml", []byte(head+"ledger: everything\nledger_retention: 10m\nreconcile:\n  every: 10ms\n"+examples.Rules))
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, `cdc.yaml:5: ledger "everything": use purchases, all or off`)
	require.Contains(t, msg, "cdc.yaml:6: ledger_retention must be at least 1h")
	require.Contains(t, msg, "cdc.yaml:8: reconcile.every must be 0 (off) or at least 1s")
}
