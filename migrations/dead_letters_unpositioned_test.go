package migrations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// Migration 8 keeps the newest of position-less dead letters that are the
// same failure (kind, rule, row) and leaves positioned ones and other rows
// alone; afterwards the database refuses a second such row.
func TestDeadLettersUnpositionedKeepsTheNewest(t *testing.T) {
	db, conn, m := migratedTo(t, 7)
	ctx := context.Background()
	db.Exec(t, `INSERT INTO cdc.dead_letters (kind, rule, table_name, row_key, reason, commit_lsn, change_index, event_sub) VALUES
		('rule', 'r', 'public.orders', 'id=1', 'old', NULL, 0, 0),
		('rule', 'r', 'public.orders', 'id=1', 'new', NULL, 0, 0),
		('rule', 'r', 'public.orders', 'id=2', 'other row', NULL, 0, 0),
		('rule', 'r', 'public.orders', 'id=1', 'from the stream', '0/10', 1, 1)`)

	require.NoError(t, m.Migrate(ctx))
	rows, err := conn.Query(ctx, `SELECT reason FROM cdc.dead_letters ORDER BY id`)
	require.NoError(t, err)
	var reasons []string
	for rows.Next() {
		var r string
		require.NoError(t, rows.Scan(&r))
		reasons = append(reasons, r)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"new", "other row", "from the stream"}, reasons)
	_, err = conn.Exec(ctx, `INSERT INTO cdc.dead_letters (kind, rule, table_name, row_key, reason) VALUES ('rule', 'r', 'public.orders', 'id=2', 'again')`)
	require.ErrorContains(t, err, "dead_letters_once_unpositioned")
}
