package ops_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pgtest"
)

// TestCheckCentsAgainstLiveColumnTypes: cents() over a float column is an
// error, over an integer column a warning that says it multiplies by 100
// (louder for a *_cents column), over numeric nothing (issue 15.8).
func TestCheckCentsAgainstLiveColumnTypes(t *testing.T) {
	db := pgtest.NewDB(t)
	db.Exec(t, `CREATE TABLE payments (id bigint PRIMARY KEY, email text, amount_float double precision,
		fee real, total_cents bigint, amount numeric(12,2))`)
	cfg := configWithRules(t, db.DSN, `
  - name: paid
    table: payments
    on: [insert]
    event:
      type: paid
      email: "= new.email"
      details:
        float: "= cents(new.amount_float)"
        fee: "= cents(new.fee, 2)"
        total: "= cents(new.total_cents)"
        exact: "= cents(new.amount)"
`)

	fs, err := ops.CheckRules(context.Background(), cfg)
	require.NoError(t, err)
	text := findingsText(fs)
	require.Len(t, fs, 3, text)
	require.False(t, ops.Runnable(fs))
	require.Contains(t, text, `error test.yaml:14: rule "paid": rules[0].event.details.float: cents(amount_float) over double precision column public.payments.amount_float: every row fails`)
	require.Contains(t, text, `error test.yaml:15: rule "paid": rules[0].event.details.fee: cents(fee) over real column`)
	require.Contains(t, text, `warn test.yaml:16: rule "paid": rules[0].event.details.total: cents(total_cents) over bigint column public.payments.total_cents: cents() multiplies by 100; the column's name says it already holds cents`)
	require.Contains(t, text, `amount: "= new.total_cents"`)
	require.NotContains(t, text, "public.payments.amount:")

	all, err := ops.Check(context.Background(), cfg)
	require.NoError(t, err)
	require.Contains(t, findingsText(all), text, "check reports the same")
}
