package replication

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

var usersNames = []string{"id", "email", "bio"}

var usersCols = []wireCol{{"id", pgtype.Int4OID, true}, {"email", pgtype.TextOID, false}, {"bio", pgtype.TextOID, false}}

// decodeAll feeds msgs to a fresh decoder and returns the changes.
func decodeAll(t *testing.T, msgs ...[]byte) []stream.Change {
	t.Helper()
	out, _ := decodeWith(t, newDecoder(), msgs...)
	return out
}

func TestDecodeTransaction(t *testing.T) {
	t.Parallel()
	rel := relationMsg(7, "public", "users", usersCols...)
	tests := []struct {
		name string
		msgs [][]byte
		want []stream.Change
	}{{
		name: "insert then commit",
		msgs: [][]byte{beginMsg(100, 9), rel, insertMsg(7, txt("1"), txt("a@x.io"), null), commitMsg(100, 120)},
		want: []stream.Change{
			{Pos: stream.Position{CommitLSN: 100}, Op: stream.OpInsert, Table: "public.users", Key: []string{"id"}, Columns: usersNames,
				New: stream.Row{"id": int64(1), "email": "a@x.io", "bio": nil}, Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, EndLSN: 120, Index: 1}, Op: stream.OpCommit, Xid: 9},
		},
	}, {
		name: "update with key-only old row and unchanged toast",
		msgs: [][]byte{beginMsg(100, 9), rel, updateMsg(7, 'K', []wireVal{txt("1"), null, null}, txt("2"), txt("b@x.io"), unchanged), commitMsg(100, 120)},
		want: []stream.Change{
			{Pos: stream.Position{CommitLSN: 100}, Op: stream.OpUpdate, Table: "public.users", Key: []string{"id"}, Columns: usersNames,
				Old: stream.Row{"id": int64(1)}, OldIsKey: true,
				New: stream.Row{"id": int64(2), "email": "b@x.io", "bio": stream.Unchanged}, Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, EndLSN: 120, Index: 1}, Op: stream.OpCommit, Xid: 9},
		},
	}, {
		name: "update with full old row fills unchanged toast",
		msgs: [][]byte{beginMsg(100, 9), rel, updateMsg(7, 'O', []wireVal{txt("1"), txt("a@x.io"), txt("long")}, txt("1"), txt("b@x.io"), unchanged), commitMsg(100, 120)},
		want: []stream.Change{
			{Pos: stream.Position{CommitLSN: 100}, Op: stream.OpUpdate, Table: "public.users", Key: []string{"id"}, Columns: usersNames,
				Old: stream.Row{"id": int64(1), "email": "a@x.io", "bio": "long"},
				New: stream.Row{"id": int64(1), "email": "b@x.io", "bio": "long"}, Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, EndLSN: 120, Index: 1}, Op: stream.OpCommit, Xid: 9},
		},
	}, {
		name: "delete, truncate and messages each take an index; heartbeats and non-transactional do not",
		msgs: [][]byte{beginMsg(100, 9), rel, deleteMsg(7, 'K', txt("1"), null, null), logicalMsg(true, heartbeatPrefix, ""),
			logicalMsg(false, "x", "y"), logicalMsg(true, "app", "hi"), truncateMsg(7), commitMsg(100, 120)},
		want: []stream.Change{
			{Pos: stream.Position{CommitLSN: 100}, Op: stream.OpDelete, Table: "public.users", Key: []string{"id"}, Columns: usersNames,
				Old: stream.Row{"id": int64(1)}, OldIsKey: true, Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, Index: 1}, Op: stream.OpMessage, Prefix: "app", Content: []byte("hi"), Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, Index: 2}, Op: stream.OpTruncate, Tables: []string{"public.users"}, Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, EndLSN: 120, Index: 3}, Op: stream.OpCommit, Xid: 9},
		},
	}, {
		name: "relation message replaces the cached schema",
		msgs: [][]byte{beginMsg(100, 9), rel, relationMsg(7, "public", "users", wireCol{"id", pgtype.Int4OID, true}, wireCol{"email2", pgtype.TextOID, false}),
			insertMsg(7, txt("1"), txt("c")), commitMsg(100, 120)},
		want: []stream.Change{
			{Pos: stream.Position{CommitLSN: 100}, Op: stream.OpInsert, Table: "public.users", Key: []string{"id"},
				Columns: []string{"id", "email2"}, New: stream.Row{"id": int64(1), "email2": "c"}, Xid: 9},
			{Pos: stream.Position{CommitLSN: 100, EndLSN: 120, Index: 1}, Op: stream.OpCommit, Xid: 9},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeAll(t, tt.msgs...)
			for i := range got {
				got[i].CommitTime = time.Time{} // Begin's zero time decodes to 2000-01-01
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	rel := relationMsg(7, "public", "users", usersCols...)
	tests := []struct {
		name string
		msgs [][]byte
	}{
		{"change outside a transaction", [][]byte{rel, insertMsg(7, txt("1"), txt("a"), null)}},
		{"unknown relation", [][]byte{beginMsg(1, 1), insertMsg(8, txt("1"))}},
		{"column count mismatch", [][]byte{beginMsg(1, 1), rel, insertMsg(7, txt("1"))}},
		{"nested begin", [][]byte{beginMsg(1, 1), beginMsg(2, 2)}},
		{"commit without begin", [][]byte{commitMsg(1, 2)}},
		{"commit lsn mismatch", [][]byte{beginMsg(1, 1), commitMsg(2, 3)}},
		{"truncated message", [][]byte{{'I', 0, 0}}},
		{"empty message", [][]byte{{}}},
		{"huge declared column length", [][]byte{beginMsg(1, 1), rel, {'I', 0, 0, 0, 7, 'N', 0, 1, 't', 0xFF, 0xFF, 0xFF, 0xFF}}},
		{"huge truncate count", [][]byte{beginMsg(1, 1), rel, {'T', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder()
			var err error
			for _, m := range tt.msgs {
				if _, err = d.decode(m); err != nil {
					break
				}
			}
			var de *decodeError
			require.ErrorAs(t, err, &de)
			require.True(t, permanent(err))
		})
	}
}

// TestDecodeBadValueIsAMarker: a value text the decoder cannot read marks
// its column and leaves the rest of the change intact (issue 10.6).
func TestDecodeBadValueIsAMarker(t *testing.T) {
	t.Parallel()
	got := decodeAll(t, beginMsg(1, 1), relationMsg(7, "public", "users", usersCols...), insertMsg(7, txt("x"), txt("a"), null))
	require.Len(t, got, 1)
	u, ok := stream.AsUnrepresentable(got[0].New["id"])
	require.True(t, ok, "%T", got[0].New["id"])
	require.Contains(t, u.Reason, `parsing "x"`)
	require.Equal(t, "a", got[0].New["email"])
}

func TestDecodeOrderRow(t *testing.T) {
	t.Parallel()
	got := decodeAll(t, beginMsg(1, 1), relationMsg(1, "public", "orders", ordersCols...), insertMsg(1, ordersRow...))
	require.Len(t, got, 1)
	require.Equal(t, stream.Row{
		"id": int64(1042), "customer_email": "ada@example.com", "status": "paid", "total": stream.Numeric("19.99"),
		"currency": "USD", "items": []any{map[string]any{"sku": "tea-1", "qty": json.Number("2"), "price": json.Number("9.995")}},
		"paid": true, "created_at": time.Date(2026, 11, 27, 10, 15, 0, 123456000, time.UTC),
		"ref": "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b",
	}, got[0].New)
}

// FuzzDecode feeds arbitrary bytes to the message and tuple decoders after
// a valid relation: they must return errors, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(insertMsg(1, ordersRow...))
	f.Add(updateMsg(1, 'O', ordersRow, ordersRow...))
	f.Add(deleteMsg(1, 'K', txt("1")))
	f.Add(truncateMsg(1, 2))
	f.Add(logicalMsg(true, "p", "c"))
	f.Add(relationMsg(1, "public", "orders", ordersCols...))
	f.Add(commitMsg(5, 6))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newDecoder()
		_, err := d.decode(relationMsg(1, "public", "orders", ordersCols...))
		require.NoError(t, err)
		_, err = d.decode(beginMsg(5, 1))
		require.NoError(t, err)
		_, _ = d.decode(data)
	})
}

func BenchmarkDecodeOrderInsert(b *testing.B) {
	d := newDecoder()
	for _, m := range [][]byte{relationMsg(1, "public", "orders", ordersCols...), beginMsg(5, 1)} {
		if _, err := d.decode(m); err != nil {
			b.Fatal(err)
		}
	}
	msg := insertMsg(1, ordersRow...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.decode(msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
}
