package migrations_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestApplyIsIdempotent(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for range 2 {
		require.NoError(t, migrations.Apply(ctx, conn, "cdc_x"))
	}
	var tables []string
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'cdc_x' ORDER BY 1`)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"backfill", "backfill_requests", "checkpoint", "dead_letters", "ledger", "reconcile_runs", "schema_version"}, tables)
}

func TestApplyRejectsBadSchema(t *testing.T) {
	require.Error(t, migrations.Apply(context.Background(), nil, `x"; drop table y; --`))
}
