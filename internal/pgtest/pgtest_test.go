package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestNewDBIsLogicalAndIsolated(t *testing.T) {
	a, b := NewDB(t), NewDB(t)
	require.NotEqual(t, a.Name, b.Name)
	var level string
	require.NoError(t, a.Pool.QueryRow(context.Background(), "SHOW wal_level").Scan(&level))
	require.Equal(t, "logical", level)
	a.Exec(t, "CREATE TABLE only_in_a (id int)")
	var n int
	require.NoError(t, b.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n))
	require.Zero(t, n)
}

func TestRestartKeepsData(t *testing.T) {
	db := NewDB(t)
	db.Exec(t, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)")
	Restart(t)
	var id int
	require.Eventually(t, func() bool {
		return db.Pool.QueryRow(context.Background(), "SELECT id FROM kept").Scan(&id) == nil
	}, 30e9, 100e6)
	require.Equal(t, 7, id)
}
