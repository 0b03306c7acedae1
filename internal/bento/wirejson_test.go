package bento

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// requireSameWire checks that appendEvent, when it takes ev, writes exactly
// the bytes of the json.Marshal path, with and without nulls; it returns
// whether the hand-written path took ev both times.
func requireSameWire(t *testing.T, ev *stream.Event) bool {
	t.Helper()
	took := true
	for _, keepNulls := range []bool{false, true} {
		want, wantErr := marshalEvent(ev, keepNulls)
		got, ok := appendEvent(ev, keepNulls)
		if !ok {
			took = false
			continue
		}
		require.NoError(t, wantErr, "appendEvent took an event json.Marshal rejects (keepNulls %v)", keepNulls)
		require.Equal(t, string(want), string(got), "keepNulls %v", keepNulls)
	}
	return took
}

func wireCases() map[string]any {
	return map[string]any{
		"plain":        "hello",
		"empty":        "",
		"html":         "<a href=\"x\">&amp;</a>",
		"controls":     "\x00\x01\b\f\n\r\t\x1f\x7f\\\"",
		"unicode":      "héllo wörld ✓ 😀",
		"separators":   "a\u2028b\u2029c",
		"invalid utf8": "a\xffb\xc3(c\xed\xa0\x80d\xf0\x28\x8c\x28",
		"truncated":    "abc\xe2\x82",
		"true":         true,
		"false":        false,
		"int":          int64(42),
		"negative":     int64(math.MinInt64),
		"max":          int64(math.MaxInt64),
		"zero float":   0.0,
		"negzero":      math.Copysign(0, -1),
		"float":        19.99,
		"tiny":         1e-7,
		"small":        0.000001,
		"big":          1e21,
		"below big":    999999999999999999999.0,
		"neg tiny":     -1.5e-300,
		"max float":    math.MaxFloat64,
		"number":       json.Number("12345678901234567890"),
		"number exp":   json.Number("-1.5e+10"),
		"empty number": json.Number(""),
		"numeric":      stream.Numeric("19.99"),
		"numeric neg":  stream.Numeric("-0.0001"),
		"numeric int":  stream.Numeric("100000000000000000000000000"),
		"time":         time.Date(2026, 11, 30, 8, 27, 0, 123456000, time.UTC),
		"time zone":    time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -5*3600-30*60)),
		"time zero ns": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		"null":         nil,
		"<key>&\u2028": "keys are escaped too",
		"nested": map[string]any{"b": int64(1), "a": map[string]any{"z": nil, "y": []any{nil, "x", map[string]any{"n": nil}}},
			"empty map": map[string]any{}, "nil map": map[string]any(nil), "nil list": []any(nil), "empty list": []any{}},
		"list": []any{int64(1), "two", 3.5, nil, true, json.Number("4"), stream.Numeric("5.50")},
	}
}

func TestAppendEventMatchesMarshal(t *testing.T) {
	date := time.Date(2026, 11, 30, 8, 27, 0, 123456789, time.FixedZone("x", 3600))
	for name, v := range wireCases() {
		t.Run(name, func(t *testing.T) {
			ev := &stream.Event{Type: "$update_fields", Email: "a@example.com",
				Fields: map[string]any{"f": v, "other": "x"}, Details: map[string]any{"d": v}, Date: date}
			require.True(t, requireSameWire(t, ev), "the hand-written path must take a %T", v)
		})
	}
	all := wireCases()
	require.True(t, requireSameWire(t, &stream.Event{Type: "$purchase <&>", Email: "a\u2028@b", Fields: all, Details: all}))
}

func TestAppendEventOmitsEmptyMembers(t *testing.T) {
	for name, ev := range map[string]*stream.Event{
		"no maps":      {Type: "t", Email: "e@x"},
		"empty maps":   {Type: "t", Email: "e@x", Fields: map[string]any{}, Details: map[string]any{}},
		"only nulls":   {Type: "t", Email: "e@x", Fields: map[string]any{"a": nil}, Details: map[string]any{"b": nil, "c": nil}},
		"nested nulls": {Type: "t", Email: "e@x", Details: map[string]any{"b": map[string]any{"c": nil}}},
	} {
		t.Run(name, func(t *testing.T) { require.True(t, requireSameWire(t, ev)) })
	}
}

// TestAppendEventHandsOver covers what only json.Marshal decides: values it
// rejects and types the encoder does not know; encodeEvent's answer must be
// the reference's, error included.
func TestAppendEventHandsOver(t *testing.T) {
	deep := any("leaf")
	for range maxDepth + 1 {
		deep = []any{deep}
	}
	for name, v := range map[string]any{
		"nan":              math.NaN(),
		"inf":              math.Inf(-1),
		"bad number":       json.Number("1.2.3"),
		"numeric nan":      stream.Numeric("NaN"),
		"numeric huge":     stream.Numeric("1" + strings.Repeat("0", 400)),
		"numeric leading":  stream.Numeric(".5"),
		"year 10000":       time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"int":              7,
		"float32":          float32(1.5),
		"bytes":            []byte("x"),
		"unrepresentable":  stream.Unrepresentable{Reason: "r"},
		"deep":             deep,
		"typed string map": map[string]string{"a": "b"},
	} {
		t.Run(name, func(t *testing.T) {
			ev := &stream.Event{Type: "t", Email: "e@x", Details: map[string]any{"v": v}}
			require.False(t, requireSameWire(t, ev))
			for _, keepNulls := range []bool{false, true} {
				want, wantErr := marshalEvent(ev, keepNulls)
				got, err := encodeEvent(ev, keepNulls)
				require.Equal(t, wantErr, err)
				require.Equal(t, string(want), string(got))
			}
		})
	}
}

func TestChangeEmailMatchesMarshal(t *testing.T) {
	ev := &stream.Event{Type: stream.TypeChangeEmail, Email: "old<&>@x.com", NewEmail: "new\u2028@x.com"}
	want, err := json.Marshal(command{Command: "change_email", Email: ev.Email, Query: ev.NewEmail})
	require.NoError(t, err)
	got, err := encodeEvent(ev, false)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func TestWriteBodyQuotesSite(t *testing.T) {
	var buf bytes.Buffer
	writeBody(&buf, TransportEventsAPI, "site<&>\"\u2028", []json.RawMessage{json.RawMessage(`{}`)})
	site, err := json.Marshal("site<&>\"\u2028")
	require.NoError(t, err)
	require.Equal(t, `{"site_uuid":`+string(site)+`,"events":[{}]}`, buf.String())
}

// FuzzAppendEvent builds events of every value type the encoder handles,
// nested in maps and lists, from fuzzed strings and numbers, and requires
// the bytes of the json.Marshal path whenever the hand-written path takes one.
func FuzzAppendEvent(f *testing.F) {
	f.Add("$update_fields", "a@b.c", "key", "val<&>\u2028\xff", 19.99, int64(-7), "123.5e-3", int64(1764491220), int64(5), uint8(0))
	f.Add("t", "e", "", "", 1e21, int64(0), "", int64(-62135596800), int64(0), uint8(255))
	f.Add("t", "e", "\x00k", "\"", 1e-7, int64(math.MaxInt64), "-0", int64(253402300800), int64(999999999), uint8(0x5a))
	f.Fuzz(func(t *testing.T, typ, email, key, s string, fl float64, n int64, num string, sec, nsec int64, shape uint8) {
		if typ == "" || email == "" {
			return
		}
		leaves := []any{s, fl, n, json.Number(num), stream.Numeric(num), time.Unix(sec, nsec).UTC(),
			time.Unix(sec, nsec).In(time.FixedZone("z", int(n%100000))), shape&1 == 1, nil}
		inner := map[string]any{}
		var list []any
		for i, v := range leaves {
			if shape>>(i%8)&1 == 1 {
				inner[key+string(rune('a'+i))] = v
			} else {
				list = append(list, v)
			}
		}
		details := map[string]any{key: inner, s: list, "list": []any{inner, list, nil}, num: leaves[int(shape)%len(leaves)]}
		fields := map[string]any{key: leaves[int(shape>>4)%len(leaves)], s: leaves[int(shape)%len(leaves)]}
		ev := &stream.Event{Type: typ, Email: email, Fields: fields, Details: details, Date: time.Unix(sec, nsec)}
		requireSameWire(t, ev)
	})
}

func TestAppendDateMatchesFormat(t *testing.T) {
	for _, tm := range []time.Time{time.Date(2026, 11, 30, 8, 27, 0, 123456789, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 2, 3, 4, 5, 6, 7000000, time.UTC)} {
		require.Equal(t, tm.Format(dateLayout), string(appendDate(nil, tm)))
	}
}

// BenchmarkEncodeEvent compares the hand-written encoding of a purchase
// with the json.Marshal path it replaces.
func BenchmarkEncodeEvent(b *testing.B) {
	ev := &stream.Event{Type: "$purchase", Email: "customer42@example.com", Date: time.Date(2026, 11, 30, 8, 27, 0, 0, time.UTC),
		Details: map[string]any{"unique": map[string]any{"key": "1042"},
			"value": map[string]any{"amount": int64(1999), "currency": "USD"}}}
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := appendEvent(ev, false); !ok {
				b.Fatal("handed over")
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalEvent(ev, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
