package replication

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
)

func TestTableColumns(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	db.Exec(t, `CREATE TABLE public.g (id int PRIMARY KEY, a int, twice int GENERATED ALWAYS AS (a * 2) STORED,
		gone int GENERATED ALWAYS AS (a) STORED); ALTER TABLE public.g DROP COLUMN gone;
		CREATE TABLE public.plain (id int PRIMARY KEY)`)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	got, err := TableColumns(ctx, conn, []string{"public.g", "public.plain", "public.missing"})
	require.NoError(t, err)
	require.Equal(t, map[string][]TableColumn{
		"public.g": {{Name: "id", Type: "integer"}, {Name: "a", Type: "integer"},
			{Name: "twice", Generated: true, Type: "integer"}},
		"public.plain": {{Name: "id", Type: "integer"}},
	}, got)
	require.Equal(t, map[string][]string{"public.g": {"twice"}}, GeneratedColumns(got))
}
