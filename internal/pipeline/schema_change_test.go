package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/ops"
)

// ruleDeadLetters waits until the dead-letter table holds n letters of rule
// and returns them.
func (e *env) ruleDeadLetters(t *testing.T, rule string, n int) []bento.DeadLetter {
	t.Helper()
	ctx := context.Background()
	store, closeStore, err := ops.DeadLetters(ctx, e.Cfg)
	require.NoError(t, err)
	defer closeStore()
	var got []bento.DeadLetter
	require.Eventually(t, func() bool {
		all, err := store.List(ctx, bento.ListOptions{})
		require.NoError(t, err)
		got = got[:0]
		for _, d := range all {
			if d.Rule == rule {
				got = append(got, d)
			}
		}
		return len(got) >= n
	}, 30*time.Second, 20*time.Millisecond, "no dead letter of rule %s", rule)
	require.Len(t, got, n)
	return got
}

// waitEvent waits until the stand-in received an event of type typ for
// email: the stream went on past the failed row.
func (e *env) waitEvent(t *testing.T, typ, email string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, ev := range e.Fake.Received() {
			if ev.Type == typ && ev.Email == email {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "no %s event for %s", typ, email)
}

// TestRenamedOrDroppedColumnIsARowFailure: issue 10.1. A rule that reads a
// column the change no longer carries must dead-letter the row with a
// reason naming table, column and the schema change, never read it as null.
func TestRenamedOrDroppedColumnIsARowFailure(t *testing.T) {
	for _, tt := range []struct{ name, alter, column string }{
		{"renamed", `ALTER TABLE orders RENAME COLUMN status TO state`, "status"},
		{"dropped", `ALTER TABLE orders DROP COLUMN currency`, "currency"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.Start(t)
			e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
			e.waitEvent(t, "$subscribe", "ann@example.com")
			e.DB.Exec(t, tt.alter)
			if tt.name == "renamed" {
				e.DB.Exec(t, `INSERT INTO orders (customer_id, state, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
			} else {
				e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
			}
			e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('bob@example.com', true)`)

			d := e.ruleDeadLetters(t, "purchase_on_paid", 1)[0]
			require.Equal(t, "public.orders", d.Table)
			require.Contains(t, d.Reason, "column "+tt.column+" is not in this change to public.orders")
			require.Contains(t, d.Reason, "schema changed")
			require.NotContains(t, d.Reason, "REPLICA IDENTITY")
			e.waitEvent(t, "$subscribe", "bob@example.com")
			require.Empty(t, e.Fake.PurchaseTotals(), "no purchase may be sent from a row read without its status")
		})
	}
}

const accountsSchema = `
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, plan text);
ALTER TABLE accounts REPLICA IDENTITY FULL;`

const accountsRules = `
defaults:
  on_error: dead_letter
rules:
  - name: plan_value
    table: accounts
    on: [insert]
    event:
      type: plan_value
      email: "= new.email"
      details:
        cents: "= new.cents"
  - name: signup
    table: accounts
    on: [insert]
    event:
      type: signup
      email: "= new.email"
  - name: closed
    table: accounts
    on: [delete]
    event:
      type: closed
      email: "= old.email"
      details:
        plan: "= old.plan"
`

// TestGeneratedColumnIsARowFailure: issue 10.2. pgoutput never sends a
// generated column, so a rule reading one must dead-letter, saying so and
// how to fix it, while the rules that do not read it still fire.
func TestGeneratedColumnIsARowFailure(t *testing.T) {
	e := newEnvWith(t, accountsSchema+`
ALTER TABLE accounts ADD COLUMN cents bigint;`, accountsRules, "")
	e.Start(t)
	e.DB.Exec(t, `ALTER TABLE accounts DROP COLUMN cents`)
	e.DB.Exec(t, `ALTER TABLE accounts ADD COLUMN cents bigint GENERATED ALWAYS AS (id * 100) STORED`)
	e.DB.Exec(t, `INSERT INTO accounts (id, email) VALUES (7, 'ann@example.com')`)

	d := e.ruleDeadLetters(t, "plan_value", 1)[0]
	require.Contains(t, d.Reason, "column cents is not in this change to public.accounts")
	require.Contains(t, d.Reason, "generated column, which logical replication does not send")
	require.Contains(t, d.Reason, "compute it in the expression or read it through a lookup")
	e.waitEvent(t, "signup", "ann@example.com")
}

// TestOldRowWithoutARenamedColumn: issue 10.1. With REPLICA IDENTITY FULL
// the old row of a delete lacks a renamed column because the table lacks
// it: the reason is the schema change, not "set REPLICA IDENTITY FULL".
func TestOldRowWithoutARenamedColumn(t *testing.T) {
	e := newEnvWith(t, accountsSchema+`
ALTER TABLE accounts ADD COLUMN cents bigint;`, accountsRules, "")
	e.Start(t)
	e.DB.Exec(t, `INSERT INTO accounts (id, email, plan, cents) VALUES (7, 'ann@example.com', 'pro', 1)`)
	e.waitEvent(t, "plan_value", "ann@example.com")
	e.DB.Exec(t, `ALTER TABLE accounts RENAME COLUMN plan TO tier`)
	e.DB.Exec(t, `DELETE FROM accounts WHERE id = 7`)

	d := e.ruleDeadLetters(t, "closed", 1)[0]
	require.Contains(t, d.Reason, "column plan is not in this change to public.accounts (it carries id, email, tier, cents)")
	require.Contains(t, d.Reason, "schema changed")
	require.NotContains(t, d.Reason, "REPLICA IDENTITY")
}
