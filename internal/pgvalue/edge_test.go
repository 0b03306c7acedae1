package pgvalue

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// deepJSON is legal in json and jsonb but deeper than encoding/json's
// 10,000 levels.
var deepJSON = strings.Repeat("[", 10001) + strings.Repeat("]", 10001)

// TestValueEdges: values Postgres accepts decode, or become an
// Unrepresentable marker; none is an error that would stop the stream
// (issue 10.6). The texts are what the server sends (see
// TestReaderValuesPostgresAccepts for the same values from a real server).
func TestValueEdges(t *testing.T) {
	t.Parallel()
	d := New()
	tests := []struct {
		oid  uint32
		text string
		want any
	}{
		{pgtype.Float8OID, "NaN", math.NaN()},
		{pgtype.Float4OID, "-Infinity", math.Inf(-1)},
		{pgtype.NumericOID, "-Infinity", stream.Numeric("-Infinity")},
		{pgtype.NumericOID, "1" + strings.Repeat("0", 131071), stream.Numeric("1" + strings.Repeat("0", 131071))},
		{pgtype.TimestampOID, "infinity", "infinity"},
		{pgtype.TimestamptzOID, "294276-12-31 23:59:59+00", time.Date(294276, 12, 31, 23, 59, 59, 0, time.UTC)},
		{pgtype.TimestamptzOID, "4713-01-01 00:00:00+00 BC", time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC)},
		// Dates are YYYY-MM-DD strings (U14); BC as Postgres writes it.
		{pgtype.DateOID, "5874897-12-31", "5874897-12-31"},
		{pgtype.DateOID, "2026-11-30", "2026-11-30"},
		{pgtype.DateArrayOID, "{0044-03-15 BC,infinity}", []any{"0044-03-15 BC", "infinity"}},
		{pgtype.OIDOID, "4294967295", int64(4294967295)},
		{pgtype.JSONOID, `{"a":"\u0000"}`, map[string]any{"a": "\x00"}},
		{pgtype.JSONOID, `1e1000000`, json.Number("1e1000000")},
		{pgtype.JSONOID, `"\ud800"`, "\uFFFD"},
		{pgtype.ByteaOID, `\xdeadbeef`, []byte{0xde, 0xad, 0xbe, 0xef}},
		{pgtype.ByteaOID, `a\000\\\377`, []byte{'a', 0, '\\', 0xff}}, // bytea_output = 'escape'
		{pgtype.Int4ArrayOID, "[0:1]={1,2}", []any{int64(1), int64(2)}},
		{pgtype.Int4ArrayOID, "{{1,2},{3,4}}", []any{int64(1), int64(2), int64(3), int64(4)}},
		{pgtype.TextOID, "caf\xe9", "caf\xe9"}, // SQL_ASCII databases send any bytes
		{424242, "{ok,sad}", "{ok,sad}"},       // an enum array: pgx does not know the type
	}
	for _, tt := range tests {
		got := d.Value(tt.oid, []byte(tt.text))
		if f, ok := tt.want.(float64); ok && math.IsNaN(f) {
			require.True(t, math.IsNaN(got.(float64)), "%d %q", tt.oid, tt.text)
			continue
		}
		require.Equal(t, tt.want, got, "%d %.40q", tt.oid, tt.text)
	}
}

func TestValueMarksWhatItCannotHold(t *testing.T) {
	t.Parallel()
	d := New()
	for _, tt := range []struct {
		oid    uint32
		text   string
		reason string
	}{
		{pgtype.JSONOID, deepJSON, "exceeded max depth"},
		{pgtype.JSONBOID, deepJSON, "exceeded max depth"},
		{pgtype.JSONBArrayOID, `{"` + strings.Repeat("[", 10001) + `"}`, "decode array element 0"},
		{pgtype.ByteaOID, `\q`, "decode bytea"},
	} {
		u, ok := stream.AsUnrepresentable(d.Value(tt.oid, []byte(tt.text)))
		require.True(t, ok, "%d %.40q", tt.oid, tt.text)
		require.Contains(t, u.Reason, tt.reason)
	}
}

// FuzzValueDecoder: no text makes the decoder panic or return an error,
// and whatever it returns survives the dead-letter change encoding.
func FuzzValueDecoder(f *testing.F) {
	oids := []uint32{pgtype.Int8OID, pgtype.Float8OID, pgtype.NumericOID, pgtype.BoolOID, pgtype.TextOID,
		pgtype.JSONOID, pgtype.JSONBOID, pgtype.TimestamptzOID, pgtype.TimestampOID, pgtype.DateOID,
		pgtype.ByteaOID, pgtype.Int4ArrayOID, pgtype.TextArrayOID, pgtype.NumericArrayOID, pgtype.JSONBArrayOID,
		pgtype.DateArrayOID, 424242}
	for i, s := range []string{"1", "NaN", "-Infinity", "t", `{"a":[1,"\u0000"]}`, "294276-12-31 23:59:59+00",
		"4713-01-01 BC", `\x00ff`, `a\000`, "{1,NULL}", `{"a,b",c}`, "{19.99}", `{"{}"}`, "{infinity}", "[[[]]]"} {
		f.Add(uint8(i), []byte(s))
	}
	d := New()
	f.Fuzz(func(t *testing.T, which uint8, text []byte) {
		v := d.Value(oids[int(which)%len(oids)], text)
		c := &stream.Change{Op: stream.OpInsert, Table: "public.t", New: stream.Row{"v": v}}
		b, err := stream.MarshalChange(c)
		require.NoError(t, err)
		back, err := stream.UnmarshalChange(b)
		require.NoError(t, err, "%s", b)
		again, err := stream.MarshalChange(back)
		require.NoError(t, err)
		require.JSONEq(t, string(b), string(again))
	})
}
