package bento

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pgbento/cdc/internal/stream"
)

// wireEncoder writes an event's wire form by hand: the same bytes
// json.Marshal(wireEvent) gives, without reflection or the per-map copies
// that dropping nulls needs (issue 14, items 1 and 2: encoding was most of
// the sender's CPU per event). It handles the value types rules.output
// produces; on anything else (or anything json.Marshal would reject) it
// reports false and the caller falls back to json.Marshal, which then also
// produces the error. wirejson_test.go proves both paths byte-identical.
type wireEncoder struct {
	buf       []byte
	pairs     []pair // map entries being sorted; nested maps stack on top
	keepNulls bool
	depth     int
}

type pair struct {
	k string
	v any
}

// maxDepth is the nesting beyond which the encoder hands over to
// json.Marshal, which alone detects cycles (it starts at 1000 levels).
const maxDepth = 500

// maxPooledBuffer bounds the scratch buffer kept for reuse, so one large
// row does not pin its size for the life of the process.
const maxPooledBuffer = 64 << 10

// wireEncoders caches scratch encoders: json.Marshal, which this replaces,
// keeps the same kind of cache of its encode states. A cache holds no state
// a caller can observe.
var wireEncoders = sync.Pool{New: func() any { return new(wireEncoder) }}

// appendEvent writes ev's wire form (ev.Type and ev.Email are checked
// non-empty by the caller) to the returned exact-size slice, or reports
// false when json.Marshal must do it.
func appendEvent(ev *stream.Event, keepNulls bool) ([]byte, bool) {
	e := wireEncoders.Get().(*wireEncoder)
	defer e.release()
	e.buf, e.keepNulls, e.depth = e.buf[:0], keepNulls, 0
	e.buf = append(e.buf, `{"type":`...)
	e.buf = appendString(e.buf, ev.Type)
	e.buf = append(e.buf, `,"email":`...)
	e.buf = appendString(e.buf, ev.Email)
	if !e.member("fields", ev.Fields) || !e.member("details", ev.Details) {
		return nil, false
	}
	if !ev.Date.IsZero() {
		// The layout's output is digits and -:T.Z+, none of which JSON escapes.
		e.buf = append(e.buf, `,"date":"`...)
		e.buf = appendDate(e.buf, ev.Date.UTC())
		e.buf = append(e.buf, '"')
	}
	e.buf = append(e.buf, '}')
	return slices.Clone(e.buf), true
}

func (e *wireEncoder) release() {
	if cap(e.buf) > maxPooledBuffer {
		e.buf = nil
	}
	clear(e.pairs) // what a hand-over left: drop references to the event's values
	e.pairs = e.pairs[:0]
	wireEncoders.Put(e)
}

// member writes ,"name":{...} unless m has no entry to send (omitempty, after
// nulls are dropped).
func (e *wireEncoder) member(name string, m map[string]any) bool {
	if len(m) == 0 || (!e.keepNulls && !hasNonNull(m)) {
		return true
	}
	e.buf = append(e.buf, ',', '"')
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, '"', ':')
	return e.object(m)
}

func hasNonNull(m map[string]any) bool {
	for _, v := range m {
		if v != nil {
			return true
		}
	}
	return false
}

func (e *wireEncoder) value(v any) bool {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case float64:
		return e.float(x)
	case json.Number:
		return e.number(string(x))
	case stream.Numeric:
		return e.numeric(string(x))
	case time.Time:
		return e.time(x)
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return true
		}
		return e.enter() && e.object(x) && e.leave()
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return true
		}
		return e.enter() && e.array(x) && e.leave()
	default:
		return false
	}
	return true
}

// appendDate is t.AppendFormat(dst, dateLayout) for a UTC time, written
// out: the layout's parsing was a third of the encoding's time.
func appendDate(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, dateLayout)
	}
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z')
}

// appendDigits writes n (0 <= n < 10^width) in exactly width digits.
func appendDigits(dst []byte, n, width int) []byte {
	start := len(dst)
	for range width {
		dst = append(dst, '0')
	}
	for i := len(dst) - 1; i >= start; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	return dst
}

// enter and leave track nesting; past maxDepth json.Marshal takes over.
func (e *wireEncoder) enter() bool {
	e.depth++
	return e.depth <= maxDepth
}

func (e *wireEncoder) leave() bool {
	e.depth--
	return true
}

// object writes m with its keys sorted, as encoding/json does; without
// keepNulls a null entry is left out (withoutNulls), in a list it stays.
func (e *wireEncoder) object(m map[string]any) bool {
	base := len(e.pairs)
	for k, v := range m {
		if v != nil || e.keepNulls {
			e.pairs = append(e.pairs, pair{k, v})
		}
	}
	slices.SortFunc(e.pairs[base:], func(a, b pair) int { return strings.Compare(a.k, b.k) })
	e.buf = append(e.buf, '{')
	for i := base; i < len(e.pairs); i++ {
		if i > base {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, e.pairs[i].k)
		e.buf = append(e.buf, ':')
		// e.pairs may move while a nested map stacks its entries: index it.
		if !e.value(e.pairs[i].v) {
			return false
		}
	}
	e.buf = append(e.buf, '}')
	clear(e.pairs[base:])
	e.pairs = e.pairs[:base]
	return true
}

func (e *wireEncoder) array(l []any) bool {
	e.buf = append(e.buf, '[')
	for i, v := range l {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if !e.value(v) {
			return false
		}
	}
	e.buf = append(e.buf, ']')
	return true
}

// float is encoding/json's floatEncoder for 64 bits: like ES6, exponent
// form below 1e-6 and from 1e21, exponents unpadded.
func (e *wireEncoder) float(f float64) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if n := len(e.buf); format == 'e' && n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
		e.buf[n-2] = e.buf[n-1] // e-09 to e-9
		e.buf = e.buf[:n-1]
	}
	return true
}

// number is encoding/json's json.Number: "" is 0, an invalid literal an error.
func (e *wireEncoder) number(s string) bool {
	if s == "" {
		s = "0"
	}
	if !isValidNumber(s) {
		return false
	}
	e.buf = append(e.buf, s...)
	return true
}

// numeric writes what stream.Numeric.MarshalJSON gives for a number that
// float64 can hold; the rest (quoted forms) go to json.Marshal.
func (e *wireEncoder) numeric(s string) bool {
	if !isValidNumber(s) {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	e.buf = append(e.buf, s...)
	return true
}

// time is time.Time.MarshalJSON: strict RFC 3339 with nanoseconds.
func (e *wireEncoder) time(t time.Time) bool {
	e.buf = append(e.buf, '"')
	b, err := t.AppendText(e.buf)
	if err != nil {
		return false
	}
	e.buf = append(b, '"')
	return true
}

// isValidNumber is the JSON number grammar (RFC 8259 section 6), as
// encoding/json checks a json.Number.
func isValidNumber(s string) bool {
	s, _ = strings.CutPrefix(s, "-")
	switch {
	case s == "":
		return false
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = skipDigits(s[1:])
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		s = skipDigits(s[2:])
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		if !isDigit(s[0]) {
			return false
		}
		s = skipDigits(s)
	}
	return s == ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipDigits(s string) string {
	for len(s) > 0 && isDigit(s[0]) {
		s = s[1:]
	}
	return s
}

const hexDigits = "0123456789abcdef"

// appendString is encoding/json's string encoding with HTML escaping (its
// default): <, > and & as \u00XX, control bytes escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if htmlSafe(b) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscaped(dst, b)
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// htmlSafe reports whether an ASCII byte goes into a JSON string as is.
func htmlSafe(b byte) bool {
	return b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
}

func appendEscaped(dst []byte, b byte) []byte {
	switch b {
	case '\\', '"':
		return append(dst, '\\', b)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
}
