package replication

import (
	"github.com/jackc/pglogrepl"
)

// relation is the decoder's view of one table, rebuilt from every Relation
// message. pgoutput sends a Relation message before the first change of a
// table in a session and again after any ALTER TABLE, so replacing the entry
// is all it takes to follow schema changes mid-stream.
type relation struct {
	table string // schema-qualified, "public.orders"
	cols  []column
	names []string // the column names, in order: every Change's Columns
	key   []string // replica identity columns, in column order
	// moveCols are the indexes in cols of the move key (partmove.go):
	// empty for a table whose DELETE and INSERT pairs are never merged;
	// partCols those of the key's partition key columns, one of which must
	// differ between the two halves of a move.
	moveCols, partCols []int
	// firstChange, when set, is called once, at the first row change
	// under this relation (the identity warning, see decoder.identify).
	firstChange func()
	// eachChange, when set, is called at every row change under this
	// relation once it is emitted (counting a table no rule reads, see
	// Reader.unruled; decoder.each).
	eachChange func()
}

type column struct {
	name string
	oid  uint32
	key  bool
}

// newRelation converts a parsed Relation message.
func newRelation(m *pglogrepl.RelationMessage) *relation {
	rel := &relation{table: m.Namespace + "." + m.RelationName, cols: make([]column, len(m.Columns)),
		names: make([]string, len(m.Columns))}
	for i, c := range m.Columns {
		isKey := c.Flags&1 != 0
		rel.cols[i] = column{name: c.Name, oid: c.DataType, key: isKey}
		rel.names[i] = c.Name
		if isKey {
			rel.key = append(rel.key, c.Name)
		}
	}
	return rel
}
