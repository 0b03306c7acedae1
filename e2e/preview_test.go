package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPreviewChecksColumnsLikeCheck: a typo in a column a rule reads stops
// `cdc preview` with exit 3 and the rule, path and column named, before
// any row is read (not "cents: value is null" on every row and exit 0;
// issue 15.8).
func TestPreviewChecksColumnsLikeCheck(t *testing.T) {
	e := newEnv(t, envOptions{ExtraRules: `
  - name: typo
    table: orders
    on: [snapshot]
    event:
      type: order_seen
      email: "= 'seen@example.com'"
      details:
        amount: "= cents(new.totl)"
`})
	e.db.Exec(t, `INSERT INTO customers (email) VALUES ('a@example.com');
		INSERT INTO orders (customer_id, status, total) VALUES (1, 'pending', 5.00)`)
	res := e.cli("preview", "--table", "orders")
	require.Equal(t, 3, res.Code, res.String())
	require.Contains(t, res.Stderr, `rule "typo": rules[`, res.String())
	require.Contains(t, res.Stderr, `table public.orders has no column "totl"`, res.String())
	require.NotContains(t, res.String(), "value is null")
	require.Empty(t, res.Stdout, "no row was previewed")
}
