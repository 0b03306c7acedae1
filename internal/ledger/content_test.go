package ledger_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// A NUL or invalid UTF-8 in any text the ledger stores (legal in the JSON
// a rule reads) must not make the write fail: the write rides in the
// checkpoint's transaction, so a refusal would stall the stream (R2).
func TestWriteNeverFailsOnContent(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	w := ledger.NewWriter("cdc")
	rec := purchase("ann\x00@example.com", "k\x00\xff1", 100, time.Now())
	rec.Value.Currency, rec.Rule, rec.Key, rec.Table = "US\x00D", "b\xc3uy", "id=\x00", "public.\x00t"
	require.NoError(t, w.Write(ctx, db.Pool, []ledger.Record{rec}))
	got, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Key: `k\x00` + "\uFFFD1"})
	require.NoError(t, err)
	require.Len(t, got, 1, "the key is stored with NUL written as \\x00 and invalid bytes as U+FFFD")
	require.Equal(t, `US\x00D`, *got[0].Currency)
	require.Equal(t, `ann\x00@example.com`, got[0].Email)
}

// FuzzWriteContent writes a ledger event whose every text field is the
// fuzzed string to real Postgres: it must always be accepted, read back
// through the view as pgtext.Safe makes it, and be found by its key (the
// batch's keys array agrees with its JSON).
func FuzzWriteContent(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00", "a\x00b", "\xff\xfe", "\xc3", `\u0000`, "é\x00\xed\xa0\x80", "q\"b\\s\n\x1f\x7f", "\uFFFD\xff"} {
		f.Add(s)
	}
	db := newDB(f)
	w := ledger.NewWriter("cdc")
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		rec := ledger.Record{Origin: ledger.OriginReplay, Adjusts: s, Delivered: stream.Delivered{
			Rule: s, Type: s, Email: s, Table: s, Key: s, Request: s, Accepted: time.Now(),
			Value: stream.Value{UniqueKey: s, Currency: s},
		}}
		require.NoError(t, w.Write(ctx, db.Pool, []ledger.Record{rec}))
		var back []string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT ARRAY[rule, event_type, email, table_name, row_key, request_id,
			coalesce(unique_key, ''), coalesce(currency, ''), coalesce(adjusts, '')]
			FROM cdc.ledger ORDER BY id DESC LIMIT 1`).Scan(&back))
		for _, b := range back {
			require.Equal(t, pgtext.Safe(s), b)
		}
		if s == "" {
			return
		}
		got, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Key: pgtext.Safe(s)})
		require.NoError(t, err)
		require.NotEmpty(t, got, "found by its key")
		if strings.TrimSpace(s) == s {
			got, err = ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Email: pgtext.Safe(s)})
			require.NoError(t, err)
			require.NotEmpty(t, got, "found by its email")
		}
	})
}
