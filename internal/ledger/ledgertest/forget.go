// Package ledgertest lets tests simulate a lost ledger entry (a discarded
// dead letter, rows written while `ledger` was "off"): the ledger is a view
// over one JSON row per batch (migrations/007_ledger_batches.sql), which
// cannot be deleted from, so Forget rewrites the batches without the
// events. It owns nothing else.
package ledgertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgbento/cdc/internal/ledger"
)

// forgetSQL rewrites every batch holding one of the unique keys $1
// without those events.
const forgetSQL = `
WITH hit AS (
    SELECT id, events FROM %[1]s b
    WHERE EXISTS (SELECT 1 FROM json_array_elements(b.events::json) v WHERE v->>'uk' = ANY($1::text[]))
), rewritten AS (
    SELECT h.id, coalesce((SELECT json_agg(a.v ORDER BY a.n)::text
                           FROM json_array_elements(h.events::json) WITH ORDINALITY AS a(v, n)
                           WHERE a.v->>'uk' IS NULL OR NOT a.v->>'uk' = ANY($1::text[])), '[]') AS events
    FROM hit h
)
UPDATE %[1]s b SET events = r.events FROM rewritten r WHERE b.id = r.id`

// Forget removes from schema's ledger the events whose unique key is one
// of uniqueKeys, as `DELETE FROM <schema>.ledger WHERE unique_key IN (...)`
// would on a table. A batch left without events goes.
func Forget(t testing.TB, db ledger.Execer, schema string, uniqueKeys ...string) {
	t.Helper()
	table := pgx.Identifier{schema, "ledger_batches"}.Sanitize()
	ctx := context.Background()
	_, err := db.Exec(ctx, fmt.Sprintf(forgetSQL, table), uniqueKeys)
	if err == nil {
		_, err = db.Exec(ctx, `DELETE FROM `+table+` WHERE events = '[]'`)
	}
	if err != nil {
		t.Fatalf("forget ledger keys %v: %v", uniqueKeys, err)
	}
}

// ForgetAll empties schema's ledger.
func ForgetAll(t testing.TB, db ledger.Execer, schema string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), `DELETE FROM `+pgx.Identifier{schema, "ledger_batches"}.Sanitize()); err != nil {
		t.Fatalf("forget the ledger: %v", err)
	}
}
