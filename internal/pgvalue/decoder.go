package pgvalue

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgbento/cdc/internal/stream"
)

// Decoder turns one column's text-format bytes into the Go type that
// stream/doc_values.go assigns to its Postgres type. It is pure: no
// connection, only pgx's type map for the formats pgx already parses
// (dates, times, bytea, arrays). Its plan cache is not safe for concurrent
// use: one Decoder per goroutine.
//
// The text forms of dates, times, intervals and floats depend on the
// sending session's settings: read them under SessionSettings, as the
// replication connection, a backfill's snapshot and a rule's lookup do.
type Decoder struct {
	types *pgtype.Map
}

// New returns a Decoder. It does no I/O.
func New() Decoder { return Decoder{types: pgtype.NewMap()} }

// SessionSettings are the session settings (name, value) under which
// Postgres writes values in the text forms Decoder reads and in UTC: the
// replication connection and a backfill's snapshot run under them.
func SessionSettings() [][2]string {
	return [][2]string{{"DateStyle", "ISO, YMD"}, {"TimeZone", "UTC"}, {"IntervalStyle", "postgres"}, {"extra_float_digits", "3"}}
}

// FormatSettings change only how values are written, not what a query
// computes: ISO dates (the session's day/month order for reading literals
// is kept), the postgres interval style, and floats that round-trip. A
// rule's lookup runs under them and keeps its session's TimeZone (so SQL
// that works in days means what its author meant); Decoder reads a
// timestamptz at any offset.
func FormatSettings() [][2]string {
	return [][2]string{{"DateStyle", "ISO"}, {"IntervalStyle", "postgres"}, {"extra_float_digits", "3"}}
}

// Value decodes a value Postgres accepted, which so is never the row's
// fault: when the syncer cannot hold it (JSON nested deeper than
// encoding/json allows, a text form pgx cannot parse), it returns a
// stream.Unrepresentable marker instead of an error that would stop the
// stream, and only the rules that read the column fail (issue 10.6).
func (d Decoder) Value(oid uint32, data []byte) any {
	v, err := d.decode(oid, data)
	if err != nil {
		return stream.Unrepresentable{Reason: err.Error()}
	}
	return v
}

// decode returns the typed value of data, a non-NULL text-format value of
// type oid. Types pgx does not know (enums, citext, arrays of domains,
// extensions) come back as their text. A domain's own OID is one of them:
// callers pass a domain column's base type (replication.BaseTypes), as a
// lookup's RowDescription does.
func (d Decoder) decode(oid uint32, data []byte) (any, error) {
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		return strconv.ParseInt(string(data), 10, 64)
	case pgtype.Float4OID, pgtype.Float8OID:
		return strconv.ParseFloat(string(data), 64)
	case pgtype.NumericOID:
		return decodeNumeric(data)
	case pgtype.BoolOID:
		return decodeBool(data)
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.NameOID, pgtype.UUIDOID:
		// uuid's text output is already the canonical 8-4-4-4-12 form.
		return string(data), nil
	case pgtype.BPCharOID:
		// char(n) pads with spaces that Postgres itself ignores (they drop
		// in a cast to text and in comparisons): 'EU' in a char(3) column
		// is "EU", not "EU ".
		return strings.TrimRight(string(data), " "), nil
	case pgtype.JSONOID, pgtype.JSONBOID:
		return decodeJSON(data)
	case pgtype.TimestamptzOID, pgtype.TimestampOID, pgtype.DateOID:
		return d.decodeTime(oid, data)
	case pgtype.ByteaOID:
		return decodeBytea(data)
	}
	if elem, ok := d.arrayElement(oid); ok {
		return d.decodeArray(oid, elem, data)
	}
	return string(data), nil
}

// decodeNumeric keeps the server's exact text: numeric must never pass
// through float64 ("19.99" stays "19.99", big values keep every digit).
func decodeNumeric(data []byte) (stream.Numeric, error) {
	switch string(data) {
	case "NaN", "Infinity", "-Infinity":
		return stream.Numeric(data), nil
	}
	digits, dot := 0, false
	for i, c := range data {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		case c == '-' && i == 0:
		default:
			return "", fmt.Errorf("decode numeric %q: unexpected %q", data, c)
		}
	}
	if digits == 0 {
		return "", fmt.Errorf("decode numeric %q: no digits", data)
	}
	return stream.Numeric(data), nil
}

// decodeBytea reads both of bytea's text forms: hex ("\x00ff", the
// default) and escape, which a server or database with bytea_output =
// 'escape' sends (octal "\ooo" for unprintable bytes, "\\" for a backslash).
func decodeBytea(data []byte) ([]byte, error) {
	if len(data) >= 2 && data[0] == '\\' && data[1] == 'x' {
		out := make([]byte, hex.DecodedLen(len(data)-2))
		if _, err := hex.Decode(out, data[2:]); err != nil {
			return nil, fmt.Errorf("decode bytea: %w", err)
		}
		return out, nil
	}
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] != '\\':
			out = append(out, data[i])
		case i+1 < len(data) && data[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(data) && isOctal(data[i+1]) && isOctal(data[i+2]) && isOctal(data[i+3]) && data[i+1] <= '3':
			out = append(out, (data[i+1]-'0')<<6|(data[i+2]-'0')<<3|(data[i+3]-'0'))
			i += 3
		default:
			return nil, fmt.Errorf("decode bytea: bad escape at byte %d", i)
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func decodeBool(data []byte) (bool, error) {
	switch string(data) {
	case "t":
		return true, nil
	case "f":
		return false, nil
	}
	return false, fmt.Errorf("decode bool %q: want t or f", data)
}

// decodeJSON decodes json and jsonb with UseNumber so numbers keep their
// exact text (json.Number), like numeric columns.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode json: trailing data")
	}
	return v, nil
}

// decodeTime returns time.Time in UTC for finite values and the strings
// "infinity" / "-infinity" for the infinite ones, which time.Time cannot hold.
func (d Decoder) decodeTime(oid uint32, data []byte) (any, error) {
	if oid != pgtype.DateOID {
		if t, ok := parseISOTimestamp(oid, data); ok {
			return t.UTC(), nil
		}
	}
	var (
		t   time.Time
		inf pgtype.InfinityModifier
		err error
	)
	switch oid {
	case pgtype.TimestamptzOID:
		var v pgtype.Timestamptz
		err = d.types.Scan(oid, pgtype.TextFormatCode, data, &v)
		t, inf = v.Time, v.InfinityModifier
	case pgtype.TimestampOID:
		var v pgtype.Timestamp
		err = d.types.Scan(oid, pgtype.TextFormatCode, data, &v)
		t, inf = v.Time, v.InfinityModifier
	default:
		var v pgtype.Date
		err = d.types.Scan(oid, pgtype.TextFormatCode, data, &v)
		t, inf = v.Time, v.InfinityModifier
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("decode time %q: %w", data, err)
	case inf == pgtype.Infinity:
		return "infinity", nil
	case inf == pgtype.NegativeInfinity:
		return "-infinity", nil
	case oid == pgtype.DateOID:
		return isoDate(t), nil
	}
	return t.UTC(), nil
}

// isoDate is a date as YYYY-MM-DD (what Postgres prints with DateStyle
// ISO), not a midnight timestamp: rules, events and dead-letter keys show
// "2026-11-30", which pastes back into SQL. Years beyond 9999 keep every
// digit; years before 1 are written as Postgres does ("4714-11-24 BC").
func isoDate(t time.Time) string {
	y, m, d := t.Date()
	if y < 1 {
		return fmt.Sprintf("%04d-%02d-%02d BC", 1-y, m, d)
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

// arrayElement reports the element type of an array type pgx knows.
func (d Decoder) arrayElement(oid uint32) (uint32, bool) {
	t, ok := d.types.TypeForOID(oid)
	if !ok {
		return 0, false
	}
	ac, ok := t.Codec.(*pgtype.ArrayCodec)
	if !ok || ac.ElementType == nil {
		return 0, false
	}
	return ac.ElementType.OID, true
}

// decodeArray lets pgx split the array literal into element texts, then
// decodes each element like a column of the element type, so numerics in
// arrays stay exact too. Multi-dimensional arrays come back flattened.
func (d Decoder) decodeArray(oid, elem uint32, data []byte) (any, error) {
	var texts pgtype.FlatArray[*string]
	if err := d.types.Scan(oid, pgtype.TextFormatCode, data, &texts); err != nil {
		return nil, fmt.Errorf("decode array: %w", err)
	}
	out := make([]any, len(texts))
	for i, s := range texts {
		if s == nil {
			continue
		}
		v, err := d.decode(elem, []byte(*s))
		if err != nil {
			return nil, fmt.Errorf("decode array element %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}
