package replication

import (
	"encoding/binary"

	"github.com/jackc/pglogrepl"
)

// rowParser parses the row messages (Insert, Update, Delete: nearly every
// message of a backlog) into messages it reuses, whose column data alias
// the input. pglogrepl allocates a struct and a copy per column and grows
// the column list one append at a time, about twenty allocations per row
// (issue 14, item 2). The decoder only reads a parsed message while it
// decodes it, and pgvalue.Decoder copies what it keeps, so reuse and aliasing
// are safe; rowparse_test.go fuzzes it against pglogrepl.Parse.
//
// parse takes a message that checkBounds accepted and reports false for
// anything but a well-formed row message: pglogrepl then parses it, and
// writes its errors.
type rowParser struct {
	ins pglogrepl.InsertMessage
	upd pglogrepl.UpdateMessage
	del pglogrepl.DeleteMessage
	old tupleBuf
	new tupleBuf
}

// tupleBuf is a reusable TupleData and the columns its pointers point at.
type tupleBuf struct {
	data pglogrepl.TupleData
	cols []pglogrepl.TupleDataColumn
}

func (p *rowParser) parse(data []byte) (pglogrepl.Message, bool) {
	b := data[1:]
	switch data[0] {
	case 'I':
		return p.insert(b)
	case 'U':
		return p.update(b)
	case 'D':
		return p.delete(b)
	}
	return nil, false
}

func (p *rowParser) insert(b []byte) (pglogrepl.Message, bool) {
	if len(b) < 8 || b[4] != 'N' {
		return nil, false
	}
	p.ins = pglogrepl.InsertMessage{RelationID: binary.BigEndian.Uint32(b), Tuple: p.new.parse(b[5:])}
	p.ins.SetType(pglogrepl.MessageTypeInsert)
	return &p.ins, true
}

// update follows pglogrepl: after an old tuple it skips one byte (the 'N')
// without reading it.
func (p *rowParser) update(b []byte) (pglogrepl.Message, bool) {
	if len(b) < 6 {
		return nil, false
	}
	p.upd = pglogrepl.UpdateMessage{RelationID: binary.BigEndian.Uint32(b)}
	rest := b[5:]
	switch kind := b[4]; kind {
	case 'K', 'O':
		p.upd.OldTupleType = kind
		p.upd.OldTuple = p.old.parse(rest)
		rest = rest[tupleLen(rest)+1:]
	case 'N':
	default:
		return nil, false
	}
	p.upd.NewTuple = p.new.parse(rest)
	p.upd.SetType(pglogrepl.MessageTypeUpdate)
	return &p.upd, true
}

func (p *rowParser) delete(b []byte) (pglogrepl.Message, bool) {
	if len(b) < 5 || (b[4] != 'K' && b[4] != 'O') {
		return nil, false
	}
	p.del = pglogrepl.DeleteMessage{RelationID: binary.BigEndian.Uint32(b), OldTupleType: b[4],
		OldTuple: p.old.parse(b[5:])}
	p.del.SetType(pglogrepl.MessageTypeDelete)
	return &p.del, true
}

// parse reads the TupleData at the start of b (checkBounds has walked it).
func (t *tupleBuf) parse(b []byte) *pglogrepl.TupleData {
	n := int(binary.BigEndian.Uint16(b))
	if cap(t.cols) < n {
		t.cols = make([]pglogrepl.TupleDataColumn, n)
		t.data.Columns = make([]*pglogrepl.TupleDataColumn, n)
	}
	t.cols, t.data.Columns = t.cols[:n], t.data.Columns[:n]
	t.data.ColumnNum = uint16(n)
	low := 2
	for i := range t.cols {
		c := &t.cols[i]
		*c = pglogrepl.TupleDataColumn{DataType: b[low]}
		low++
		if c.DataType == pglogrepl.TupleDataTypeText || c.DataType == pglogrepl.TupleDataTypeBinary {
			c.Length = binary.BigEndian.Uint32(b[low:])
			low += 4
			c.Data = b[low : low+int(c.Length) : low+int(c.Length)]
			low += int(c.Length)
		}
		t.data.Columns[i] = c
	}
	return &t.data
}

// tupleLen is the length of the TupleData at the start of b.
func tupleLen(b []byte) int {
	rest, _ := skipTuple(b) // checkBounds has walked it
	return len(b) - len(rest)
}
