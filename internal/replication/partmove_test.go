package replication

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// salesWire is a partitioned table as the Relation message of its root
// describes it: key (no, on), partitioned by on; its move key is no.
var salesWire = []wireCol{{"no", pgtype.Int4OID, true}, {"on", pgtype.DateOID, true}, {"status", pgtype.TextOID, false}}

// moveDecoder is a decoder whose catalog says relation 7 is partitioned
// by "on" with move key "no" and every other relation is not.
func moveDecoder() *decoder {
	d := newDecoder()
	d.moveKey = func(relID uint32, _ string) ([]string, []string, error) {
		if relID == 7 {
			return []string{"no"}, []string{"on"}, nil
		}
		return nil, nil, nil
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
		for _, c := range changes {
			out = append(out, *c.ch)
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
		{"the table altered between", [][]byte{del("1"), relationMsg(7, "sales", "orders", append(salesWire, wireCol{"x", pgtype.TextOID, false})...),
			insertMsg(7, txt("1"), txt("2026-11-28"), txt("new"), null)}, []string{"delete#0/64#0.0", "insert#0/64#1.0"}},
		{"the table described again", [][]byte{del("1"), rel7, ins(7, "1")}, []string{"update#0/64#1.0"}},
		{"the same partition key", [][]byte{del("1"), insertMsg(7, txt("1"), txt("2026-01-05"), txt("new"))},
			[]string{"delete#0/64#0.0", "insert#0/64#1.0"}},
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
	d.moveKey = func(uint32, string) ([]string, []string, error) {
		return nil, nil, &catalogError{errors.New("read partition key of sales.orders: connection refused")}
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

// ordersDDL is the user trial's table: sales.orders partitioned by month
// on placed_on, primary key (order_no, placed_on).
const ordersDDL = `CREATE SCHEMA sales;
	CREATE TABLE sales.orders (order_no int, placed_on date, status text, note text,
		PRIMARY KEY (order_no, placed_on)) PARTITION BY RANGE (placed_on);
	CREATE TABLE sales.orders_2026_01 PARTITION OF sales.orders FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
	CREATE TABLE sales.orders_2026_11 PARTITION OF sales.orders FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
	INSERT INTO sales.orders VALUES (11, '2026-01-05', 'paid', 'a'), (12, '2026-01-06', 'paid', 'b'), (13, '2026-01-07', 'paid', 'c')`

const fullIdentity = `; ALTER TABLE sales.orders REPLICA IDENTITY FULL; ALTER TABLE sales.orders_2026_01 REPLICA IDENTITY FULL; ALTER TABLE sales.orders_2026_11 REPLICA IDENTITY FULL`

// TestPartitionMoveIsOneUpdate: an UPDATE that moves a row to another
// partition arrives as one update of the partitioned table with the old
// row as that partition's replica identity sends it, under FULL and
// DEFAULT alike; a multi-row move is one update per row, in order.
func TestPartitionMoveIsOneUpdate(t *testing.T) {
	t.Parallel()
	for _, identity := range []string{"full", "default"} {
		t.Run(identity, func(t *testing.T) {
			t.Parallel()
			ddl := ordersDDL
			if identity == "full" {
				ddl += fullIdentity
			}
			h := newHarness(t, ddl, "sales.orders")
			h.start()
			h.db.Exec(t, `UPDATE sales.orders SET status = 'refunded', placed_on = '2026-11-28' WHERE order_no = 11`)
			changes, commit := h.tx()
			require.Len(t, changes, 1)
			ch := changes[0]
			require.Equal(t, stream.OpUpdate, ch.Op)
			require.Equal(t, "sales.orders", ch.Table)
			require.Equal(t, 1, ch.Pos.Index, "the INSERT's index")
			require.Equal(t, 2, commit.Pos.Index)
			wantOld := stream.Row{"order_no": int64(11), "placed_on": "2026-01-05"}
			if identity == "full" {
				wantOld["status"], wantOld["note"] = "paid", "a"
			}
			require.Equal(t, wantOld, stringDates(ch.Old))
			require.Equal(t, identity == "default", ch.OldIsKey)
			require.Equal(t, stream.Row{"order_no": int64(11), "placed_on": "2026-11-28", "status": "refunded", "note": "a"}, stringDates(ch.New))

			h.db.Exec(t, `UPDATE sales.orders SET placed_on = placed_on + 300 WHERE order_no IN (12, 13)`)
			changes, _ = h.tx()
			require.Equal(t, []string{"update 12 2026-11-02", "update 13 2026-11-03"}, summary(changes))
		})
	}
}

func summary(changes []stream.Change) []string {
	var out []string
	for _, ch := range changes {
		row := ch.New
		if row == nil {
			row = ch.Old
		}
		out = append(out, fmt.Sprintf("%s %v %v", ch.Op, row["order_no"], stringDates(row)["placed_on"]))
	}
	return out
}

// TestPartitionDeleteInsertStaysApart: what is no partition move stays a
// delete and an insert: another order inserted after a delete, the same
// key deleted and inserted again in a table that is not partitioned; an
// update inside one partition stays an update.
func TestPartitionDeleteInsertStaysApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, ordersDDL+fullIdentity+`; CREATE TABLE sales.plain (order_no int PRIMARY KEY, placed_on date);
		INSERT INTO sales.plain VALUES (1, '2026-01-05')`, "sales.orders", "sales.plain")
	h.start()
	h.db.Exec(t, `BEGIN; DELETE FROM sales.orders WHERE order_no = 11;
		INSERT INTO sales.orders VALUES (14, '2026-11-28', 'paid', 'd'); COMMIT`)
	changes, _ := h.tx()
	require.Equal(t, []string{"delete 11 2026-01-05", "insert 14 2026-11-28"}, summary(changes))

	h.db.Exec(t, `BEGIN; DELETE FROM sales.plain WHERE order_no = 1; INSERT INTO sales.plain VALUES (1, '2026-11-28'); COMMIT`)
	changes, _ = h.tx()
	require.Equal(t, []string{"delete 1 <nil>", "insert 1 2026-11-28"}, summary(changes), "merged only for partitioned tables")

	h.db.Exec(t, `UPDATE sales.orders SET status = 'shipped' WHERE order_no = 12`)
	changes, _ = h.tx()
	require.Equal(t, []string{"update 12 2026-01-06"}, summary(changes))
	require.Equal(t, "paid", changes[0].Old["status"])
	require.Equal(t, 0, changes[0].Pos.Index)

	h.db.Exec(t, `DELETE FROM sales.orders WHERE order_no = 13`)
	changes, _ = h.tx()
	require.Equal(t, []string{"delete 13 2026-01-07"}, summary(changes), "a delete alone is emitted at its commit")

	h.db.Exec(t, `BEGIN; DELETE FROM sales.orders WHERE order_no = 12;
		INSERT INTO sales.orders VALUES (12, '2026-01-06', 'paid', 'again'); COMMIT`)
	changes, _ = h.tx()
	require.Equal(t, []string{"delete 12 2026-01-06", "insert 12 2026-01-06"}, summary(changes),
		"the same key in the same partition is no move: what the user wrote")
}

// TestPartitionMovesSplit: with source.partition_moves: split a move
// arrives as the WAL has it, a delete and an insert.
func TestPartitionMovesSplit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, ordersDDL+fullIdentity, "sales.orders")
	h.cfg.PartitionMoves = PartitionMovesSplit
	h.start()
	h.db.Exec(t, `UPDATE sales.orders SET status = 'refunded', placed_on = '2026-11-28' WHERE order_no = 11`)
	changes, _ := h.tx()
	require.Equal(t, []string{"delete 11 2026-01-05", "insert 11 2026-11-28"}, summary(changes))
}

// TestPartitionMoveResumes: a reader restarted after an acknowledgement
// just before a move (the last event of the change before it, or one at
// the DELETE's unused index), or after part of the move's events, emits the move again exactly once, at the
// same position, with the Sub the acknowledgement left.
func TestPartitionMoveResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, ordersDDL+fullIdentity, "sales.orders")
	h.start()
	h.db.Exec(t, `BEGIN; INSERT INTO sales.orders VALUES (20, '2026-01-20', 'paid', 'e');
		UPDATE sales.orders SET status = 'refunded', placed_on = '2026-11-28' WHERE order_no = 11; COMMIT`)
	changes, commit := h.tx()
	require.Equal(t, []string{"insert 20 2026-01-20", "update 11 2026-11-28"}, summary(changes))
	insert, move := changes[0], changes[1]
	at := func(p stream.Position, sub int) stream.Position { p.Sub = sub; return p }

	for _, tt := range []struct {
		acked stream.Position
		want  []string // op#position of what is emitted again
	}{
		{at(insert.Pos, 1), []string{"insert#" + at(insert.Pos, 1).String(), "update#" + move.Pos.String()}},
		// The DELETE's unused index, as a checkpoint of an older version
		// that emitted the DELETE alone may hold: the move follows whole.
		{stream.Position{CommitLSN: move.Pos.CommitLSN, Index: move.Pos.Index - 1, Sub: 1}, []string{"update#" + move.Pos.String()}},
		{at(move.Pos, 1), []string{"update#" + at(move.Pos, 1).String()}},
	} {
		h.ack(tt.acked)
		h.stop()
		h.start()
		again, againCommit := h.tx()
		require.Equal(t, tt.want, opsAndIndexes(again), "after %s", tt.acked)
		last := again[len(again)-1]
		require.Equal(t, move.Old, last.Old)
		require.Equal(t, move.New, last.New)
		require.Equal(t, commit.Pos, againCommit.Pos)
	}
	h.ack(commit.Pos)
	h.stop()
	h.start()
	h.quiet()
}

// TestMoveKeyCatalog: the move key is the primary key (or the replica
// identity index) without the partition key columns, read by a role with
// no privileges at all; nil for a table that is not partitioned, whose key
// is all partition columns, or whose partition key is an expression.
func TestMoveKeyCatalog(t *testing.T) {
	t.Parallel()
	h := newHarness(t, ordersDDL+`;
		CREATE TABLE sales.by_region (order_no int, region text, placed_on date, PRIMARY KEY (region, placed_on, order_no))
			PARTITION BY LIST (region);
		CREATE TABLE sales.by_ident (order_no int NOT NULL, code text NOT NULL, placed_on date NOT NULL, PRIMARY KEY (order_no, placed_on))
			PARTITION BY RANGE (placed_on);
		CREATE UNIQUE INDEX by_ident_code ON sales.by_ident (code, placed_on);
		ALTER TABLE sales.by_ident REPLICA IDENTITY USING INDEX by_ident_code;
		CREATE TABLE sales.by_day (placed_on date PRIMARY KEY) PARTITION BY RANGE (placed_on);
		CREATE TABLE sales.by_expr (placed_on date, at timestamp) PARTITION BY RANGE ((at::date));
		CREATE TABLE sales.plain (order_no int PRIMARY KEY)`, "sales.orders")
	_, conn := h.newRole()
	ctx := context.Background()
	want := map[string][2][]string{ // move key, partition key columns
		"sales.orders": {{"order_no"}, {"placed_on"}}, "sales.by_region": {{"placed_on", "order_no"}, {"region"}},
		"sales.by_ident": {{"code"}, {"placed_on"}}, "sales.by_day": {}, "sales.by_expr": {}, "sales.plain": {},
	}
	oids, err := TableOIDs(ctx, conn, slices.Collect(maps.Keys(want)))
	require.NoError(t, err)
	require.Len(t, oids, len(want))
	for table, cols := range want {
		move, part, err := MoveKey(ctx, conn, oids[table])
		require.NoError(t, err)
		require.Equal(t, cols, [2][]string{move, part}, table)
	}
}
