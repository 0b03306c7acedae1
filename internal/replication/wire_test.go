package replication

import (
	"encoding/binary"

	"github.com/jackc/pgx/v5/pgtype"
)

// Encoders for pgoutput protocol-1 messages, for tests and fuzz seeds.
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

type wireCol struct {
	name string
	oid  uint32
	key  bool
}

type wireVal struct {
	kind byte // 'n', 'u', 't'
	text string
}

func txt(s string) wireVal { return wireVal{kind: 't', text: s} }

var (
	null      = wireVal{kind: 'n'}
	unchanged = wireVal{kind: 'u'}
)

func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }
func cstr(b []byte, s string) []byte { return append(append(b, s...), 0) }

func relationMsg(id uint32, ns, name string, cols ...wireCol) []byte {
	b := be32([]byte{'R'}, id)
	b = cstr(cstr(b, ns), name)
	b = append(b, 'd')
	b = binary.BigEndian.AppendUint16(b, uint16(len(cols)))
	for _, c := range cols {
		flag := byte(0)
		if c.key {
			flag = 1
		}
		b = cstr(append(b, flag), c.name)
		b = be32(be32(b, c.oid), 0xFFFFFFFF)
	}
	return b
}

func tupleData(b []byte, vals ...wireVal) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(vals)))
	for _, v := range vals {
		b = append(b, v.kind)
		if v.kind == 't' {
			b = append(be32(b, uint32(len(v.text))), v.text...)
		}
	}
	return b
}

func beginMsg(final uint64, xid uint32) []byte {
	return be32(be64(be64([]byte{'B'}, final), 0), xid)
}

func commitMsg(commit, end uint64) []byte {
	return be64(be64(be64([]byte{'C', 0}, commit), end), 0)
}

func insertMsg(rel uint32, vals ...wireVal) []byte {
	return tupleData(append(be32([]byte{'I'}, rel), 'N'), vals...)
}

func updateMsg(rel uint32, oldKind byte, old []wireVal, vals ...wireVal) []byte {
	b := be32([]byte{'U'}, rel)
	if oldKind != 0 {
		b = tupleData(append(b, oldKind), old...)
	}
	return tupleData(append(b, 'N'), vals...)
}

func deleteMsg(rel uint32, oldKind byte, old ...wireVal) []byte {
	return tupleData(append(be32([]byte{'D'}, rel), oldKind), old...)
}

func truncateMsg(rels ...uint32) []byte {
	b := append(be32([]byte{'T'}, uint32(len(rels))), 0)
	for _, r := range rels {
		b = be32(b, r)
	}
	return b
}

func logicalMsg(transactional bool, prefix, content string) []byte {
	flag := byte(0)
	if transactional {
		flag = 1
	}
	b := be64([]byte{'M', flag}, 0)
	b = cstr(b, prefix)
	return append(be32(b, uint32(len(content))), content...)
}

// ordersCols is a realistic orders table.
var ordersCols = []wireCol{
	{"id", pgtype.Int8OID, true},
	{"customer_email", pgtype.TextOID, false},
	{"status", 99999, false}, // an enum
	{"total", pgtype.NumericOID, false},
	{"currency", pgtype.TextOID, false},
	{"items", pgtype.JSONBOID, false},
	{"paid", pgtype.BoolOID, false},
	{"created_at", pgtype.TimestamptzOID, false},
	{"ref", pgtype.UUIDOID, false},
}

var ordersRow = []wireVal{
	txt("1042"), txt("ada@example.com"), txt("paid"), txt("19.99"), txt("USD"),
	txt(`[{"sku": "tea-1", "qty": 2, "price": 9.995}]`), txt("t"),
	txt("2026-11-27 10:15:00.123456+00"), txt("6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"),
}
