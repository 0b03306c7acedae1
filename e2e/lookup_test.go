package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// pwnRule reads a customer through a lookup whose CTE updates every
// customer: it starts with "with", the only thing the old guard looked at.
const pwnRule = `
  - name: pwned
    table: orders
    on: [insert, snapshot]
    lookups:
      x:
        sql: with x as (update customers set plan = 'pwned' returning email) select email from x
    event:
      type: pwned
      email: "= lookup.x.email"
`

// TestWritingLookupIsRejected (issue 15.9): check rejects the lookup with
// exit 3 naming the rule and the write; preview and run refuse it before
// evaluating a row; no customer row changes.
func TestWritingLookupIsRejected(t *testing.T) {
	e := newEnv(t, envOptions{ExtraRules: pwnRule})
	e.db.Exec(t, `INSERT INTO customers (id, email, plan) VALUES (1, 'a@example.com', 'free')`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, total) VALUES (1, 10)`)
	const why = "a lookup must only read, but this one would UPDATE rows"

	res := e.cli("check")
	require.Equal(t, 3, res.Code, res.String())
	require.Regexp(t, `rule "pwned": .*`+why, res.Stdout)

	res = e.cli("preview", "--table", "orders")
	require.Equal(t, 3, res.Code, "preview checks the rules like check: "+res.String())
	require.Contains(t, res.Stderr, why)

	res = e.cli("run")
	require.Equal(t, 1, res.Code, res.String())
	require.Contains(t, res.Stderr, why)

	var pwned int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM customers WHERE plan = 'pwned'`).Scan(&pwned))
	require.Zero(t, pwned, "a lookup changed rows")
	require.Empty(t, e.fake.Received())
}
