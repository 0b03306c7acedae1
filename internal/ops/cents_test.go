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

// TestCheckDomainColumns: a domain column decodes as its base type, so
// check judges cents() by the base type (through a domain over a domain),
// and rules over domain columns otherwise pass check, for a role that may
// only read the table (pg_type is readable by every role).
func TestCheckDomainColumns(t *testing.T) {
	db := pgtest.NewDB(t)
	db.Exec(t, `CREATE DOMAIN price AS double precision; CREATE DOMAIN amount AS numeric(12,2);
		CREATE DOMAIN points AS bigint; CREATE DOMAIN bonus AS points; CREATE DOMAIN stamp AS timestamptz;
		CREATE TABLE loyalty (id bigint PRIMARY KEY, email text, shelf price, total amount, extra bonus, seen stamp)`)
	role, dsn := limitedRole(t, db)
	db.Exec(t, `GRANT SELECT ON loyalty TO `+role)
	rule := `
  - name: earned
    table: loyalty
    on: [insert]
    event:
      type: earned
      email: "= new.email"
      date: "= new.seen"
      details:
        total: "= cents(new.total)"
        extra: "= new.extra + 1"
`
	fs, err := ops.CheckRules(context.Background(), configWithRules(t, dsn, rule))
	require.NoError(t, err)
	require.Empty(t, fs, findingsText(fs))

	fs, err = ops.CheckRules(context.Background(), configWithRules(t, dsn, rule+`        shelf: "= cents(new.shelf)"
        bonus: "= cents(new.extra)"
`))
	require.NoError(t, err)
	text := findingsText(fs)
	require.Len(t, fs, 2, text)
	require.Contains(t, text, `cents(shelf) over double precision column public.loyalty.shelf: every row fails`)
	require.Contains(t, text, `cents(extra) over bigint column public.loyalty.extra: cents() multiplies by 100`)
}
