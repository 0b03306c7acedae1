package pgvalue

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func TestValueDecoder(t *testing.T) {
	t.Parallel()
	d := New()
	tests := []struct {
		oid  uint32
		text string
		want any
	}{
		{pgtype.Int2OID, "-7", int64(-7)},
		{pgtype.Int8OID, "9223372036854775807", int64(9223372036854775807)},
		{pgtype.Float8OID, "1.5", 1.5},
		{pgtype.NumericOID, "19.99", stream.Numeric("19.99")},
		{pgtype.NumericOID, "-123456789012345678901234567890.000000001", stream.Numeric("-123456789012345678901234567890.000000001")},
		{pgtype.NumericOID, "NaN", stream.Numeric("NaN")},
		{pgtype.BoolOID, "f", false},
		{pgtype.TextOID, "héllo", "héllo"},
		{pgtype.BPCharOID, " EU  ", " EU"},
		{pgtype.BPCharArrayOID, `{"EU ",USD}`, []any{"EU", "USD"}},
		{pgtype.UUIDOID, "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b", "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"},
		{pgtype.JSONOID, `{"n": 1.10}`, map[string]any{"n": json.Number("1.10")}},
		{pgtype.TimestamptzOID, "2026-01-02 03:04:05.5+00", time.Date(2026, 1, 2, 3, 4, 5, 500000000, time.UTC)},
		{pgtype.TimestampOID, "2026-01-02 03:04:05", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{pgtype.DateOID, "2026-01-02", "2026-01-02"},
		{pgtype.DateOID, "-infinity", "-infinity"},
		{pgtype.ByteaOID, `\x00ff`, []byte{0, 255}},
		{pgtype.Int4ArrayOID, "{1,NULL,3}", []any{int64(1), nil, int64(3)}},
		{pgtype.TextArrayOID, `{a,"b,c",NULL}`, []any{"a", "b,c", nil}},
		{pgtype.NumericArrayOID, "{19.99,0.1}", []any{stream.Numeric("19.99"), stream.Numeric("0.1")}},
		{424242, "some_enum_label", "some_enum_label"},
	}
	for _, tt := range tests {
		got, err := d.decode(tt.oid, []byte(tt.text))
		require.NoError(t, err, "%d %q", tt.oid, tt.text)
		require.Equal(t, tt.want, got, "%d %q", tt.oid, tt.text)
	}
}

func TestValueDecoderRejects(t *testing.T) {
	t.Parallel()
	d := New()
	for _, tt := range []struct {
		oid  uint32
		text string
	}{
		{pgtype.Int4OID, "1.5"}, {pgtype.NumericOID, "1.2.3"}, {pgtype.NumericOID, "-"}, {pgtype.BoolOID, "yes"},
		{pgtype.JSONBOID, "{"}, {pgtype.JSONBOID, "1 2"}, {pgtype.TimestamptzOID, "soon"}, {pgtype.Int4ArrayOID, "{x}"},
	} {
		_, err := d.decode(tt.oid, []byte(tt.text))
		require.Error(t, err, "%d %q", tt.oid, tt.text)
	}
}
