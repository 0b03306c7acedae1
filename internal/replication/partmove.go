package replication

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/pgbento/cdc/internal/stream"
)

// An UPDATE that changes a row's partition key so the row moves to another
// partition is written to the WAL as a DELETE in the old partition and an
// INSERT in the new one; with publish_via_partition_root both arrive under
// the partitioned table, one right after the other. Passed on as they are,
// update rules would never see the change and insert rules would fire again
// for a row that already existed. The decoder turns such a pair back into
// one update (docs/decisions.md, "Partition moves"):
//
//   - a DELETE on a partitioned table whose move key (MoveKey: the primary
//     key or replica identity columns that are no partition key columns)
//     is present in its old row is held, not emitted;
//   - if the very next row message of the transaction is an INSERT on the
//     same relation with the same move key text, the pair is one OpUpdate:
//     Old is the deleted row as sent (key-only under REPLICA IDENTITY
//     DEFAULT, whole under FULL, like any update's), New the inserted row,
//     and it carries the INSERT's position (Index). The DELETE's index is
//     left unused, so every other change keeps the index it would have
//     anyway and positions stay strictly increasing;
//   - any other message of the transaction (another row change, a
//     truncate, a logical message, Commit, a Relation message that
//     describes the same table otherwise: it was altered in between)
//     first releases the held DELETE unchanged, at its own index, before
//     its own change. A Relation message that describes it alike keeps it
//     held: PG15 sends the root's again, then the new partition's, before
//     the first change in a partition it has not sent before.
//
// At most one change is held, never across a Commit. Nothing held is ever
// acknowledged, so a session that ends while holding one (a lost
// connection, a stop) re-reads its transaction, which is not confirmed, and
// decides the pair again from the same WAL.

// heldDelete is the DELETE the decoder holds back, waiting for the message
// after it.
type heldDelete struct {
	rel   *relation // nil: nothing is held
	relID uint32
	ch    stream.Change
	key   [][]byte      // the old row's move key columns' text, copied
	part  []tupleColumn // the old row's partition key columns, copied
}

// tupleColumn is one column of a tuple as sent: its kind (text, null) and
// its text.
type tupleColumn struct {
	kind byte
	data []byte
}

// hold keeps ch, a decoded DELETE, back when it may be the first half of a
// partition move. It reports whether it did.
func (d *decoder) hold(ch *stream.Change, m *pglogrepl.DeleteMessage) bool {
	rel := d.rels[m.RelationID]
	if len(rel.moveCols) == 0 || m.OldTuple == nil {
		return false
	}
	h := &d.held
	h.key = slices.Grow(h.key[:0], len(rel.moveCols))[:len(rel.moveCols)]
	for j, i := range rel.moveCols {
		c := m.OldTuple.Columns[i] // row decoding checked the column count
		if c.DataType != pglogrepl.TupleDataTypeText {
			return false
		}
		h.key[j] = append(h.key[j][:0], c.Data...)
	}
	h.part = slices.Grow(h.part[:0], len(rel.partCols))[:len(rel.partCols)]
	for j, i := range rel.partCols {
		c := m.OldTuple.Columns[i]
		h.part[j] = tupleColumn{kind: c.DataType, data: append(h.part[j].data[:0], c.Data...)}
	}
	h.rel, h.relID, h.ch = rel, m.RelationID, *ch
	return true
}

// completes reports whether the INSERT m is the second half of the held
// DELETE's partition move: the same relation, as described by the same
// Relation message, the same text in every move key column, and another
// value in a partition key column (a row that moved left its partition's
// values behind: a DELETE and INSERT of the same key in one partition are
// what the user wrote, as on a table that is not partitioned).
func (h *heldDelete) completes(m *pglogrepl.InsertMessage, rels map[uint32]*relation) bool {
	if m.RelationID != h.relID || rels[m.RelationID] != h.rel || m.Tuple == nil || len(m.Tuple.Columns) != len(h.rel.cols) {
		return false
	}
	for j, i := range h.rel.moveCols {
		c := m.Tuple.Columns[i]
		if c.DataType != pglogrepl.TupleDataTypeText || !bytes.Equal(c.Data, h.key[j]) {
			return false
		}
	}
	for j, i := range h.rel.partCols {
		c := m.Tuple.Columns[i]
		if c.DataType != h.part[j].kind || !bytes.Equal(c.Data, h.part[j].data) {
			return true
		}
	}
	return false
}

// keepsHeld reports whether msg leaves the held DELETE held: messages that
// describe (Type, Origin, Relation: relation decides for the held table's)
// and the INSERT that completes the move.
func (d *decoder) keepsHeld(msg pglogrepl.Message) bool {
	switch m := msg.(type) {
	case *pglogrepl.InsertMessage:
		return d.held.completes(m, d.rels)
	case *pglogrepl.RelationMessage, *pglogrepl.TypeMessage, *pglogrepl.OriginMessage:
		return true
	}
	return false
}

// describedAgain follows a Relation message for the held DELETE's table:
// the same columns and move key keep it held under the new description,
// anything else releases it.
func (d *decoder) describedAgain(relID uint32, rel *relation) {
	h := &d.held
	if h.rel == nil || h.relID != relID {
		return
	}
	if slices.Equal(h.rel.cols, rel.cols) && slices.Equal(h.rel.moveCols, rel.moveCols) {
		h.rel = rel
		return
	}
	d.release()
}

// release emits the held DELETE unchanged, ahead of whatever the current
// message yields.
func (d *decoder) release() {
	d.out = append(d.out, decoded{&d.released, d.held.rel.eachChange})
	d.released, d.held.rel = d.held.ch, nil
}

// move decodes the INSERT that completes the held DELETE as one update.
func (d *decoder) move(m *pglogrepl.InsertMessage) (*stream.Change, error) {
	old, oldIsKey := d.held.ch.Old, d.held.ch.OldIsKey
	d.held.rel = nil
	ch, err := d.row(stream.OpUpdate, m.RelationID, 0, nil, m.Tuple)
	if err != nil {
		return nil, err
	}
	ch.Old, ch.OldIsKey = old, oldIsKey
	return ch, nil
}

// resolveMoveKey finds rel's move key and partition key columns
// (d.moveKey) when its Relation message arrives: one catalog read per
// relation, none per row, and none for a relation without a key (its
// DELETE carries no old row to compare).
func (d *decoder) resolveMoveKey(relID uint32, rel *relation, name string) error {
	if d.moveKey == nil || len(rel.key) == 0 {
		return nil
	}
	move, part, err := d.moveKey(relID, name)
	if err != nil {
		return err
	}
	moveCols, okMove := columnIndexes(rel.names, move)
	partCols, okPart := columnIndexes(rel.names, part)
	if okMove && okPart { // else the catalog moved on since the WAL was written: do not guess
		rel.moveCols, rel.partCols = moveCols, partCols
	}
	return nil
}

// columnIndexes returns the index in names of each of cols; ok is false
// when one is missing.
func columnIndexes(names, cols []string) (idx []int, ok bool) {
	for _, c := range cols {
		i := slices.Index(names, c)
		if i < 0 {
			return nil, false
		}
		idx = append(idx, i)
	}
	return idx, true
}

// moveKey is MoveKey on the reader's normal connection. A failed read is a
// catalogError: passing the table's moves on as delete and insert instead
// would silently change what the rules see.
func (r *Reader) moveKey(ctx context.Context, relID uint32, table string) (move, part []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	move, part, err = MoveKey(ctx, r.store.pool, relID)
	if err != nil {
		return nil, nil, &catalogError{fmt.Errorf("read partition key of %s: %w", table, err)}
	}
	return move, part, nil
}
