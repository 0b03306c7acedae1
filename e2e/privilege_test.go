package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// newLimitedRole creates a role with only what the README recommends
// (REPLICATION, USAGE on the tables' schema, SELECT on the tables) and
// drops it when the test ends.
func newLimitedRole(t *testing.T) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "cdc_lp_" + hex.EncodeToString(b[:])
}

func grantLimited(t *testing.T, e *env, role string) {
	t.Helper()
	e.db.Exec(t, `CREATE ROLE `+role+` LOGIN REPLICATION`)
	t.Cleanup(func() {
		ctx := t.Context()
		_, _ = e.db.Pool.Exec(ctx, `DROP OWNED BY `+role)
		_, _ = e.db.Pool.Exec(ctx, `DROP ROLE `+role)
	})
	e.db.Exec(t, `REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO `+role+`;
		GRANT SELECT ON customers, orders TO `+role)
}

var sqlLine = regexp.MustCompile(`(?m)^ +sql: (.*)$`)

// TestLeastPrivilegeRoleCheckSetupRun: with a role that has only
// REPLICATION, USAGE and SELECT, check finds the missing schema and
// publication (exit 3, with the SQL an admin runs), setup creates nothing it
// cannot, prints that SQL and exits 3; once an admin ran exactly that SQL,
// setup finishes (tables, slot), check says runnable, and cdc run as the
// limited role starts and streams (issue 15.3).
func TestLeastPrivilegeRoleCheckSetupRun(t *testing.T) {
	role := newLimitedRole(t)
	e := newEnv(t, envOptions{User: role})
	grantLimited(t, e, role)

	res := e.cli("check")
	require.Equal(t, 3, res.Code, res.String())
	require.Contains(t, res.Stdout, "sql: CREATE SCHEMA cdc AUTHORIZATION "+role+";", res.String())
	require.Contains(t, res.Stdout, "sql: CREATE PUBLICATION cdc_bento FOR TABLE public.customers, public.orders;", res.String())
	require.Contains(t, res.Stdout, "does not own public.customers, public.orders", res.String())
	require.NotContains(t, res.Stdout, "runnable: yes")

	res = e.cli("setup")
	require.Equal(t, 3, res.Code, res.String())
	require.NotContains(t, res.String(), "permission denied")
	require.NotContains(t, res.String(), "must be owner")
	adminSQL := sqlLine.FindAllStringSubmatch(res.Stdout, -1)
	require.Len(t, adminSQL, 2, "the schema and the publication:\n%s", res.String())
	for _, m := range adminSQL {
		e.db.Exec(t, m[1]) // the admin runs what setup printed, as printed
	}

	res = e.cli("setup")
	require.Equal(t, 0, res.Code, res.String())
	require.Contains(t, res.Stdout, "-- migration 1: 001_init.sql", res.String())
	require.Contains(t, res.Stdout, "CREATE_REPLICATION_SLOT cdc_bento", res.String())
	res = e.cli("check")
	require.Equal(t, 0, res.Code, res.String())
	require.Contains(t, res.Stdout, "runnable: yes")

	var canCreate bool
	require.NoError(t, e.db.Pool.QueryRow(t.Context(), `SELECT has_database_privilege($1, current_database(), 'CREATE')`, role).Scan(&canCreate))
	require.False(t, canCreate, "the role never got CREATE on the database")
	s := e.startSyncer()
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('least@example.com', true)`)
	require.Eventually(t, func() bool {
		return received(e.fake, func(ev bentotest.ReceivedEvent) bool { return ev.Email == "least@example.com" })
	}, 30*time.Second, 20*time.Millisecond, "the limited role streams:\n%s", s.Logs())
	code, _ := s.terminate(30 * time.Second)
	require.Zero(t, code, s.Logs())
	require.False(t, strings.Contains(s.Logs(), "permission denied"), s.Logs())
}
