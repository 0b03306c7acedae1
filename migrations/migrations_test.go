package migrations_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// connect gives a test a fresh database and a connection to it.
func connect(t *testing.T) (*pgtest.DB, *pgx.Conn) {
	t.Helper()
	db := pgtest.NewDB(t)
	conn, err := pgx.Connect(context.Background(), db.DSN)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return db, conn
}

// migratedTo is a database whose schema cdc is at version: the migrator to
// run the rest with, after the test wrote rows of that version.
func migratedTo(t *testing.T, version int32) (*pgtest.DB, *pgx.Conn, *migrate.Migrator) {
	t.Helper()
	db, conn := connect(t)
	ctx := context.Background()
	_, err := conn.Exec(ctx, `CREATE SCHEMA cdc`)
	require.NoError(t, err)
	m, err := migrate.NewMigrator(ctx, conn, "cdc.schema_version")
	require.NoError(t, err)
	m.Data["schema"] = "cdc"
	require.NoError(t, m.LoadMigrations(migrations.Files))
	require.NoError(t, m.MigrateTo(ctx, version))
	return db, conn, m
}

func TestApplyIsIdempotent(t *testing.T) {
	_, conn := connect(t)
	ctx := context.Background()
	for range 2 {
		require.NoError(t, migrations.Apply(ctx, conn, "cdc_x"))
	}
	var tables []string
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'cdc_x' ORDER BY 1`)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"backfill", "backfill_requests", "checkpoint", "dead_letters", "ledger_batches", "reconcile_runs", "schema_version"}, tables)
}

func TestApplyRejectsBadSchema(t *testing.T) {
	require.Error(t, migrations.Apply(context.Background(), nil, `x"; drop table y; --`))
}

// TestApplyNeedsNoPrivilegeOnceCurrent: a role with only USAGE on the
// syncer's schema and rights on its tables (no CREATE on the database or
// the schema) can start once an admin applied the migrations; before, it
// needs CREATE and says so.
func TestApplyNeedsNoPrivilegeOnceCurrent(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	role := "m_" + db.Name[len(db.Name)-8:]
	db.Exec(t, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() {
		_, _ = db.Pool.Exec(ctx, `DROP OWNED BY `+role)
		_, _ = db.Pool.Exec(ctx, `DROP ROLE `+role)
	})
	pc, err := pgx.ParseConfig(db.DSN)
	require.NoError(t, err)
	pc.User = role
	limited, err := pgx.ConnectConfig(ctx, pc)
	require.NoError(t, err)
	defer limited.Close(ctx)

	st, err := migrations.Inspect(ctx, limited, "cdc")
	require.NoError(t, err)
	require.Equal(t, migrations.State{Latest: migrations.Latest()}, st)
	require.ErrorContains(t, migrations.Apply(ctx, limited, "cdc"), "permission denied for database")

	admin, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer admin.Close(ctx)
	ran, err := migrations.ApplyReport(ctx, admin, "cdc")
	require.NoError(t, err)
	require.Len(t, ran, 1+int(migrations.Latest()), "the schema and each migration: %v", ran)
	db.Exec(t, `GRANT USAGE ON SCHEMA cdc TO `+role+`; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA cdc TO `+role)

	st, err = migrations.Inspect(ctx, limited, "cdc")
	require.NoError(t, err)
	require.True(t, st.Current(), "%+v", st)
	ran, err = migrations.ApplyReport(ctx, limited, "cdc")
	require.NoError(t, err)
	require.Empty(t, ran)
}
