package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ledger"
)

// Migration 7 turns the old one-row-per-event ledger into batches, one per
// request, and the view reads every old row back unchanged, in the order
// `cdc log` shows them.
func TestLedgerBatchesConvertOldRows(t *testing.T) {
	db, conn, m := migratedTo(t, 6)
	ctx := context.Background()

	db.Exec(t, `INSERT INTO cdc.ledger (accepted_at, event_at, origin, request_id, rule, event_type, email, table_name,
			row_key, unique_key, amount, currency, adjusts, commit_lsn, change_index, event_sub) VALUES
		('2026-05-01 12:00:01+00', '2026-05-01 11:59:00.123456+00', 'stream', 'r1', 'buy', '$purchase', 'Ann@Example.com',
			'public.orders', 'id=1', '1', 1999, 'USD', NULL, '0/16B3A80', 2, 1),
		('2026-05-01 12:00:01+00', NULL, 'stream', 'r1', 'sub', '$subscribe', 'bob@example.com', 'public.customers',
			'id=2', NULL, NULL, NULL, NULL, '0/16B3A80', 3, 1),
		('2026-05-02 08:00:00+00', NULL, 'reconcile', 'r2', 'buy', '$purchase', 'ann@example.com', '', '',
			'1~adj1', -500, 'USD', '1', NULL, NULL, NULL),
		('2026-05-01 12:00:01+00', NULL, 'stream', 'r1', 'buy', '$purchase', 'q"uote\x00@example.com', 'public.orders',
			'id=3', '3', 100, 'USD', NULL, '0/16B3A90', 1, 1)`)
	const cols = `accepted_at, event_at, origin, request_id, rule, event_type, email, table_name, row_key, unique_key,
		amount, currency, adjusts, commit_lsn, change_index, event_sub`
	before := rowsJSON(t, conn, `SELECT row_to_json(x)::text FROM (SELECT `+cols+` FROM cdc.ledger ORDER BY accepted_at, id) x`)

	require.NoError(t, m.Migrate(ctx))
	after := rowsJSON(t, conn, `SELECT row_to_json(x)::text FROM (SELECT `+cols+` FROM cdc.ledger ORDER BY accepted_at, id, seq) x`)
	require.Equal(t, before, after)
	var batches int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM cdc.ledger_batches`).Scan(&batches))
	require.Equal(t, 2, batches, "one batch per request")

	ann, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Email: "ANN@example.com"})
	require.NoError(t, err)
	require.Len(t, ann, 2, "the batches' emails are lower-case")
	require.Equal(t, "0/16B3A80#2.1", *ann[0].Position)
	byRowKey, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Key: "id=3"})
	require.NoError(t, err)
	require.Len(t, byRowKey, 1)
	require.Equal(t, `q"uote\x00@example.com`, byRowKey[0].Email)
}

func rowsJSON(t *testing.T, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}
