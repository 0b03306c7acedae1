package ops_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

// TestCheckReportsRulesReadingGeneratedColumns: issue 10.2. check used to
// count a generated column as a column; a rule streaming it is an error
// with the fix, while a rule that runs only on snapshot may read it.
func TestCheckReportsRulesReadingGeneratedColumns(t *testing.T) {
	e := pipelinetest.NewEnvWith(t, `
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL,
  cents bigint GENERATED ALWAYS AS (id * 100) STORED);
ALTER TABLE accounts REPLICA IDENTITY FULL;`, `
rules:
  - name: plan_value
    table: accounts
    on: [insert]
    event:
      type: plan_value
      email: "= new.email"
      details:
        cents: "= new.cents"
  - name: snapshot_value
    table: accounts
    on: [snapshot]
    event:
      type: snapshot_value
      email: "= new.email"
      details:
        cents: "= new.cents"
`, "")
	fs, err := ops.Check(context.Background(), e.Cfg)
	require.NoError(t, err)
	text := findingsText(fs)
	require.False(t, ops.Runnable(fs), text)
	require.Contains(t, text, `rule "plan_value": rules[0].event.details.cents: column "cents" of public.accounts is generated`)
	require.Contains(t, text, "compute the value in the expression or read it through a lookup")
	require.NotContains(t, text, `rule "snapshot_value"`, "a snapshot reads generated columns through SELECT")
}
