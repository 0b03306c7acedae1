package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// NewRole creates a login role with attributes (e.g. "REPLICATION",
// "SUPERUSER") on the test server, named prefix and the end of the
// database's name, and drops it (with what it owns in the database) when
// the test ends. It returns the role's name and a DSN for the database that
// connects as it.
func (d *DB) NewRole(t testing.TB, prefix, attributes string) (string, string) {
	t.Helper()
	role := prefix + d.Name[len(d.Name)-8:]
	d.Exec(t, `CREATE ROLE `+role+` LOGIN `+attributes)
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = d.Pool.Exec(ctx, `DROP OWNED BY `+role)
		_, _ = d.Pool.Exec(ctx, `DROP ROLE `+role)
	})
	pc, err := pgx.ParseConfig(d.DSN)
	if err != nil {
		t.Fatalf("pgtest: parse DSN: %v", err)
	}
	return role, fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", pc.Host, pc.Port, role, pc.Database)
}
