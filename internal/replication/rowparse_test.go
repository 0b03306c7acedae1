package replication

import (
	"testing"

	"github.com/jackc/pglogrepl"
	"github.com/stretchr/testify/require"
)

// requireSameParse checks that rowParser, where it takes a message, reads
// what pglogrepl.Parse reads.
func requireSameParse(t *testing.T, p *rowParser, data []byte) bool {
	t.Helper()
	if len(data) == 0 || checkBounds(data) != nil {
		return false
	}
	got, ok := p.parse(data)
	if !ok {
		return false
	}
	want, err := parseMessage(data)
	require.NoError(t, err, "rowParser took a message pglogrepl rejects")
	require.Equal(t, want.Type(), got.Type())
	wantParts, gotParts := rowParts(t, want), rowParts(t, got)
	require.Equal(t, wantParts.rel, gotParts.rel)
	require.Equal(t, wantParts.oldType, gotParts.oldType)
	requireSameTuple(t, wantParts.old, gotParts.old)
	requireSameTuple(t, wantParts.new, gotParts.new)
	return true
}

// parts are what a row message carries.
type parts struct {
	rel      uint32
	oldType  uint8
	old, new *pglogrepl.TupleData
}

func rowParts(t *testing.T, m pglogrepl.Message) parts {
	t.Helper()
	switch m := m.(type) {
	case *pglogrepl.InsertMessage:
		return parts{rel: m.RelationID, new: m.Tuple}
	case *pglogrepl.UpdateMessage:
		return parts{rel: m.RelationID, oldType: m.OldTupleType, old: m.OldTuple, new: m.NewTuple}
	case *pglogrepl.DeleteMessage:
		return parts{rel: m.RelationID, oldType: m.OldTupleType, old: m.OldTuple}
	}
	t.Fatalf("rowParser took a %T", m)
	return parts{}
}

func requireSameTuple(t *testing.T, want, got *pglogrepl.TupleData) {
	t.Helper()
	if want == nil {
		require.Nil(t, got)
		return
	}
	require.NotNil(t, got)
	require.Equal(t, want.ColumnNum, got.ColumnNum)
	require.Len(t, got.Columns, len(want.Columns))
	for i, w := range want.Columns {
		g := got.Columns[i]
		require.Equal(t, w.DataType, g.DataType, "column %d", i)
		require.Equal(t, w.Length, g.Length, "column %d", i)
		require.Equal(t, w.Data, g.Data, "column %d", i)
	}
}

func TestRowParserMatchesPglogrepl(t *testing.T) {
	t.Parallel()
	p := &rowParser{}
	for name, m := range map[string][]byte{
		"insert":          insertMsg(1, ordersRow...),
		"insert nulls":    insertMsg(1, null, txt(""), unchanged),
		"update new only": updateMsg(7, 0, nil, txt("1"), txt("b@x.io"), unchanged),
		"update key":      updateMsg(7, 'K', []wireVal{txt("1"), null, null}, txt("2"), txt("b@x.io"), unchanged),
		"update old":      updateMsg(1, 'O', ordersRow, ordersRow...),
		"delete key":      deleteMsg(7, 'K', txt("1")),
		"delete old":      deleteMsg(1, 'O', ordersRow...),
		"wide then short": insertMsg(1, txt("x")), // after wider rows: the reused columns shrink
	} {
		require.True(t, requireSameParse(t, p, m), name)
	}
	for name, m := range map[string][]byte{
		"insert not N":  append([]byte{'I', 0, 0, 0, 1, 'X'}, insertMsg(1, txt("1"))[6:]...),
		"delete not KO": append([]byte{'D', 0, 0, 0, 1, 'N'}, insertMsg(1, txt("1"))[6:]...),
		"begin":         beginMsg(5, 1),
		"insert short":  insertMsg(1), // pglogrepl wants 8 bytes
	} {
		_, ok := p.parse(m)
		require.False(t, ok, name)
	}
}

// TestDecodeKeepsNoInputBytes: the parsed columns alias the connection's
// read buffer, which is reused: a decoded row must not change with it.
func TestDecodeKeepsNoInputBytes(t *testing.T) {
	t.Parallel()
	d := newDecoder()
	for _, m := range [][]byte{relationMsg(1, "public", "orders", ordersCols...), beginMsg(5, 1)} {
		_, err := d.decode(m)
		require.NoError(t, err)
	}
	msg := insertMsg(1, ordersRow...)
	changes, err := d.decode(msg)
	require.NoError(t, err)
	require.Len(t, changes, 1)
	ch := changes[0].ch
	want := decodeAll(t, relationMsg(1, "public", "orders", ordersCols...), beginMsg(5, 1), insertMsg(1, ordersRow...))[0]
	for i := range msg {
		msg[i] = 'x'
	}
	require.Equal(t, want.New, ch.New)
}

func FuzzRowParser(f *testing.F) {
	f.Add(insertMsg(1, ordersRow...))
	f.Add(updateMsg(1, 'O', ordersRow, ordersRow...))
	f.Add(updateMsg(7, 'K', []wireVal{txt("1"), null, null}, txt("2"), txt("b@x.io"), unchanged))
	f.Add(updateMsg(7, 0, nil, txt("1")))
	f.Add(deleteMsg(7, 'K', txt("1")))
	p := &rowParser{}
	f.Fuzz(func(t *testing.T, data []byte) {
		requireSameParse(t, p, data)
	})
}
