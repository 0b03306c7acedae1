package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLogAndReconcileOutput runs the binary the way the user trial did:
// after a total fixed by hand and `cdc reconcile`, `cdc log --key` shows
// the purchase and its correction; `cdc log` past --limit keeps the newest
// events, says so on stderr only (the JSON stays valid); the reconcile
// report keeps USD and EUR apart.
func TestLogAndReconcileOutput(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true), ('bob@example.com', true)`)
	s := e.startSyncer()
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at, currency) VALUES
		(1, 'paid', 3.00, now(), 'USD'), (2, 'paid', 120.00, now(), 'USD'), (2, 'paid', 24.33, now(), 'EUR')`)
	require.Eventually(t, func() bool { // all three purchases (the stand-in's totals add currencies up)
		totals := e.fake.PurchaseTotals()
		return totals["ann@example.com"] == 300 && totals["bob@example.com"] == 12000+2433
	}, 60*time.Second, 20*time.Millisecond)
	code, _ := s.terminate(30 * time.Second)
	require.Zero(t, code)
	e.db.Exec(t, `UPDATE orders SET total = 3.50 WHERE id = 1`)  // paid already: no rule fires
	e.db.Exec(t, `UPDATE orders SET total = 25.33 WHERE id = 3`) // bob's EUR order
	rec := e.cli("reconcile")
	require.Zero(t, rec.Code, rec.String())
	require.Contains(t, rec.Stdout, "bob@example.com: database EUR 2533, USD 12000; Bento (ledger) EUR 2433, USD 12000; drift EUR +100 (cents)", rec.String())
	require.Contains(t, rec.Stdout, "database EUR 2533, USD 12350; ledger EUR 2433, USD 12300 (cents)", rec.String())
	require.NotContains(t, rec.Stderr, "INFO", rec.String())

	byKey := e.cli("log", "--key", "1", "--json")
	require.Zero(t, byKey.Code, byKey.String())
	var total int64
	lines := strings.Split(strings.TrimSpace(byKey.Stdout), "\n")
	require.Len(t, lines, 2, byKey.String())
	for _, l := range lines {
		var ev struct {
			Amount int64 `json:"amount"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &ev), l)
		total += ev.Amount
	}
	require.EqualValues(t, 350, total, "the purchase (300) and its correction (+50)")

	limited := e.cli("log", "--limit", "2", "--json")
	require.Zero(t, limited.Code, limited.String())
	lines = strings.Split(strings.TrimSpace(limited.Stdout), "\n")
	require.Len(t, lines, 2, limited.String())
	for _, l := range lines {
		require.True(t, json.Valid([]byte(l)), l)
	}
	require.Contains(t, limited.Stdout, `"adjusts"`, "the newest events (the corrections) are the ones kept")
	require.Contains(t, limited.Stderr, "showing the newest 2 matching events; older ones exist", limited.String())

	all := e.cli("log", "--json")
	require.Zero(t, all.Code, all.String())
	require.Empty(t, all.Stderr, "nothing cut, nothing said")
}
