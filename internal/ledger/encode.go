package ledger

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pgbento/cdc/internal/pgtext"
)

// The events of a batch are stored as a compact JSON array, one object per
// event, with the short keys the view <schema>.ledger reads them under
// (migrations/007_ledger_batches.sql); a field that is empty is left out
// and reads as NULL. Encoding by hand into one reused buffer keeps the
// ledger's share of an acknowledgement small (issue 13): no reflection, no
// allocation per event.

// appendEvents appends recs as a JSON array.
func appendEvents(b []byte, recs []Record) []byte {
	b = append(b, '[')
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEvent(b, &recs[i])
	}
	return append(b, ']')
}

// appendEvent appends r as one JSON object. Origin, request and acceptance
// time are the batch's columns, not the event's.
func appendEvent(b []byte, r *Record) []byte {
	b = append(b, `{"ru":`...)
	b = appendString(b, r.Rule)
	b = append(b, `,"ty":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"em":`...)
	b = appendString(b, r.Email)
	b = appendField(b, `,"tb":`, r.Table)
	b = appendField(b, `,"rk":`, r.Key)
	b = appendField(b, `,"uk":`, r.Value.UniqueKey)
	if r.Value.HasAmount {
		b = append(b, `,"am":`...)
		b = strconv.AppendInt(b, r.Value.Amount, 10)
	}
	b = appendField(b, `,"cu":`, r.Value.Currency)
	b = appendField(b, `,"ad":`, r.Adjusts)
	if !r.Date.IsZero() {
		b = append(b, `,"d":"`...)
		b = appendTime(b, r.Date)
		b = append(b, '"')
	}
	if r.Origin == OriginStream {
		b = append(b, `,"l":"`...)
		b = strconv.AppendUint(b, uint64(r.Pos.CommitLSN)>>32, 16)
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(r.Pos.CommitLSN)&0xFFFFFFFF, 16)
		b = append(b, `","ci":`...)
		b = strconv.AppendInt(b, int64(r.Pos.Index), 10)
		b = append(b, `,"es":`...)
		b = strconv.AppendInt(b, int64(r.Pos.Sub), 10)
	}
	return append(b, '}')
}

// appendField appends key and s unless s is empty (NULL in the view).
func appendField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

// appendTime appends t to the microsecond (what timestamptz keeps,
// truncated as pgx truncates a parameter), with its offset.
func appendTime(b []byte, t time.Time) []byte {
	return t.Truncate(time.Microsecond).AppendFormat(b, time.RFC3339Nano)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string that Postgres always turns back
// into text, holding what pgtext.Safe(s) holds: each run of invalid UTF-8
// becomes one U+FFFD and NUL the four characters `\x00` (JSON's \u0000 is
// refused as text). Quotes, backslashes and other control characters are
// escaped. A ledger row must never be refused for its content: it rides in
// the checkpoint's transaction (R2).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	invalid := false
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				if !invalid {
					b = append(b, "\uFFFD"...)
				}
				invalid = true
			} else {
				b = append(b, s[i:i+size]...)
				invalid = false
			}
			i += size
			continue
		}
		invalid = false
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == 0:
			b = append(b, `\\x00`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// appendElem appends s as an element of a text[] literal, made safe as
// appendString makes it (pgtext.Safe), so that the batch's arrays match its
// JSON. Quoted, only '"' and '\\' need escaping.
func appendElem(b []byte, s string) []byte {
	s = pgtext.Safe(s)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
