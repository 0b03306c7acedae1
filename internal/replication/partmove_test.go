package replication

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// salesWire is a partitioned table as the Relation message of its root
// describes it: key (no, on), partitioned by on; its move key is no.
var salesWire = []wireCol{{"no", pgtype.Int4OID, true}, {"on", pgtype.DateOID, true}, {"status", pgtype.TextOID, false}}

// moveDecoder is a decoder whose catalog says relation 7 is partitioned
// with move key "no" and every other relation is not.
func moveDecoder() *decoder {
	d := newDecoder()
	d.moveKey = func(relID uint32, _ string) ([]string, error) {
		if relID == 7 {
			return []string{"no"}, nil
		}
		return nil, nil
	}
	return d
}

// decodeWith is decodeAll on d, with the number of changes each message
// yielded.
func decodeWith(t *testing.T, d *decoder, msgs ...[]byte) ([]stream.Change, []int) {
	t.Helper()
	var out []stream.Change
	var per []int
	for _, m := range msgs {
		changes, err := d.decode(m)
		require.NoError(t, err)
		per = append(per, len(changes))
		for _, ch := range changes {
			out = append(out, *ch)
		}
	}
	return out, per
}

func opsAndIndexes(changes []stream.Change) []string {
	var out []string
	for _, ch := range changes {
		out = append(out, ch.Op.String()+"#"+ch.Pos.String())
	}
	return out
}

// TestDecodeMergesPartitionMove: a DELETE on a partitioned table followed
// by an INSERT of the same move key is one update at the INSERT's index,
// with the deleted row as old (as sent: key-only or full); the DELETE's
// index stays unused and the commit marker counts both.
func TestDecodeMergesPartitionMove(t *testing.T) {
	t.Parallel()
	for _, kind := range []byte{'K', 'O'} {
		oldRow := []wireVal{txt("11"), txt("2026-01-05"), txt("paid")}
		if kind == 'K' {
			oldRow[2] = null
		}
		got, per := decodeWith(t, moveDecoder(), beginMsg(100, 9), relationMsg(7, "sales", "orders", salesWire...),
			deleteMsg(7, kind, oldRow...),
			relationMsg(8, "sales", "orders_2026_11", salesWire...), // PG15 names the new partition too
			insertMsg(7, txt("11"), txt("2026-11-28"), txt("refunded")), commitMsg(100, 120))
		require.Equal(t, []int{0, 0, 0, 0, 1, 1}, per)
		require.Equal(t, []string{"update#0/64#1.0", "commit#0/64#2.0"}, opsAndIndexes(got))
		wantOld := stream.Row{"no": int64(11), "on": "2026-01-05", "status": "paid"}
		if kind == 'K' {
			wantOld = stream.Row{"no": int64(11), "on": "2026-01-05"}
		}
		require.Equal(t, wantOld, stringDates(got[0].Old))
		require.Equal(t, kind == 'K', got[0].OldIsKey)
		require.Equal(t, stream.Row{"no": int64(11), "on": "2026-11-28", "status": "refunded"}, stringDates(got[0].New))
		require.Equal(t, "sales.orders", got[0].Table)
	}
}

// TestDecodeKeepsOtherDeletesAndInserts: a held DELETE that is no move is
// emitted unchanged, at its own index and before the next change, by
// whatever message comes next; at most one is held.
func TestDecodeKeepsOtherDeletesAndInserts(t *testing.T) {
	t.Parallel()
	del := func(no string) []byte { return deleteMsg(7, 'K', txt(no), txt("2026-01-05"), null) }
	ins := func(rel uint32, no string) []byte { return insertMsg(rel, txt(no), txt("2026-11-28"), txt("new")) }
	rel7, rel9 := relationMsg(7, "sales", "orders", salesWire...), relationMsg(9, "public", "plain", salesWire...)
	tests := []struct {
		name string
		msgs [][]byte
		want []string
	}{
		{"another key", [][]byte{del("1"), ins(7, "2")}, []string{"delete#0/64#0.0", "insert#0/64#1.0"}},
		{"another table", [][]byte{rel9, del("1"), ins(9, "1")}, []string{"delete#0/64#0.0", "insert#0/64#1.0"}},
		{"a table that is not partitioned", [][]byte{rel9, deleteMsg(9, 'K', txt("1"), txt("2026-01-05"), null), ins(9, "1")},
			[]string{"delete#0/64#0.0", "insert#0/64#1.0"}},
		{"delete at commit", [][]byte{del("1")}, []string{"delete#0/64#0.0"}},
		{"two deletes", [][]byte{del("1"), del("2"), ins(7, "2")}, []string{"delete#0/64#0.0", "update#0/64#2.0"}},
		{"an update between", [][]byte{del("1"), updateMsg(7, 0, nil, txt("3"), txt("2026-01-05"), txt("x")), ins(7, "1")},
			[]string{"delete#0/64#0.0", "update#0/64#1.0", "insert#0/64#2.0"}},
		{"the table altered between", [][]byte{del("1"), rel7, ins(7, "1")}, []string{"delete#0/64#0.0", "insert#0/64#1.0"}},
		{"a null key", [][]byte{deleteMsg(7, 'K', null, txt("2026-01-05"), null), insertMsg(7, null, txt("2026-11-28"), null)},
			[]string{"delete#0/64#0.0", "insert#0/64#1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := append([][]byte{beginMsg(100, 9), rel7}, tt.msgs...)
			got, _ := decodeWith(t, moveDecoder(), append(msgs, commitMsg(100, 120))...)
			commit := got[len(got)-1]
			require.Equal(t, stream.OpCommit, commit.Op)
			require.Equal(t, len(tt.msgs)-countRelations(tt.msgs), commit.Pos.Index, "every row message counts")
			require.Equal(t, tt.want, opsAndIndexes(got[:len(got)-1]))
		})
	}
}

func countRelations(msgs [][]byte) int {
	n := 0
	for _, m := range msgs {
		if m[0] == 'R' {
			n++
		}
	}
	return n
}

// TestDecodeMoveKeyCatalogError: a failed read of the move key is worth
// another attempt, never a silent fallback to delete and insert.
func TestDecodeMoveKeyCatalogError(t *testing.T) {
	t.Parallel()
	d := newDecoder()
	d.moveKey = func(uint32, string) ([]string, error) {
		return nil, &catalogError{errors.New("read partition key of sales.orders: connection refused")}
	}
	_, err := d.decode(relationMsg(7, "sales", "orders", salesWire...))
	var ce *catalogError
	require.ErrorAs(t, err, &ce)
	require.False(t, permanent(err))
}

// stringDates writes the dates of r as YYYY-MM-DD, for comparing.
func stringDates(r stream.Row) stream.Row {
	out := stream.Row{}
	for k, v := range r {
		if d, ok := v.(interface{ Format(string) string }); ok {
			v = d.Format("2006-01-02")
		}
		out[k] = v
	}
	return out
}
