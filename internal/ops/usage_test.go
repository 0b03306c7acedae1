package ops_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pgtest"
)

// limitedRole creates a login role with REPLICATION and nothing else,
// dropped (with what it owns in db) when the test ends; it returns the
// role's name and a DSN that connects as it.
func limitedRole(t *testing.T, db *pgtest.DB) (string, string) {
	t.Helper()
	return db.NewRole(t, "lp_", "REPLICATION")
}

// configWithRules is a config for dsn whose rules section is rules (list
// items), starting on line 7 of "test.yaml".
func configWithRules(t *testing.T, dsn, rules string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(`
source:
  dsn: %q
bento:
  site_uuid: site-1
rules:`, dsn)+rules))
	require.NoError(t, err)
	return cfg
}

// TestCheckNamesMissingUsageOnSchema: a role with SELECT on a table but no
// USAGE on its schema is told exactly that, with the GRANT, instead of a
// failed preflight query (issue 15.4).
func TestCheckNamesMissingUsageOnSchema(t *testing.T) {
	db := pgtest.NewDB(t)
	db.Exec(t, `CREATE SCHEMA billing; CREATE TABLE billing.invoices (id bigint PRIMARY KEY, email text)`)
	role, dsn := limitedRole(t, db)
	db.Exec(t, `GRANT SELECT ON billing.invoices TO `+role)
	cfg := configWithRules(t, dsn, `
  - name: invoice_created
    table: billing.invoices
    on: [insert]
    event:
      type: invoice_created
      email: "= new.email"
`)

	fs, err := ops.Check(context.Background(), cfg)
	require.NoError(t, err)
	text := findingsText(fs)
	require.False(t, ops.Runnable(fs), text)
	require.Contains(t, text, "error no USAGE on schema billing: GRANT USAGE ON SCHEMA billing TO "+role+" |")
	require.Contains(t, text, "| GRANT USAGE ON SCHEMA billing TO "+role+";\n")
	require.NotContains(t, text, "preflight query failed")
	require.NotContains(t, text, "permission denied")
}
