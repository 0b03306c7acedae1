package ledger

import (
	"strconv"
	"time"

	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// The events of a batch are stored as a compact JSON array, one object per
// event, with the short keys the view <schema>.ledger reads them under
// (migrations/007_ledger_batches.sql); a field that is empty is left out
// and reads as NULL. Encoding by hand into one reused buffer keeps the
// ledger's share of an acknowledgement small (issue 13): no reflection, no
// allocation per event.

// appendEvents appends the events [from, to) as a JSON array.
func appendEvents(b []byte, ev events, from, to int) []byte {
	b = append(b, '[')
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		d, origin, adjusts := ev.get(i)
		b = appendEvent(b, d, origin == OriginStream, adjusts)
	}
	return append(b, ']')
}

// appendEvent appends d as one JSON object, with its WAL position when
// it came from the stream. Origin, request and acceptance time are the
// batch's columns, not the event's.
func appendEvent(b []byte, d *stream.Delivered, withPos bool, adjusts string) []byte {
	b = appendString(append(b, `{"ru":`...), d.Rule)
	b = appendString(append(b, `,"ty":`...), d.Type)
	b = appendString(append(b, `,"em":`...), d.Email)
	b = appendField(b, `,"tb":`, d.Table)
	b = appendField(b, `,"rk":`, d.Key)
	b = appendField(b, `,"uk":`, d.Value.UniqueKey)
	if d.Value.HasAmount {
		b = strconv.AppendInt(append(b, `,"am":`...), d.Value.Amount, 10)
	}
	b = appendField(b, `,"cu":`, d.Value.Currency)
	b = appendField(b, `,"ad":`, adjusts)
	if !d.Date.IsZero() {
		b = append(appendTime(append(b, `,"d":"`...), d.Date), '"')
	}
	if withPos {
		b = strconv.AppendUint(append(b, `,"l":"`...), uint64(d.Pos.CommitLSN)>>32, 16)
		b = strconv.AppendUint(append(b, '/'), uint64(d.Pos.CommitLSN)&0xFFFFFFFF, 16)
		b = strconv.AppendInt(append(b, `","ci":`...), int64(d.Pos.Index), 10)
		b = strconv.AppendInt(append(b, `,"es":`...), int64(d.Pos.Sub), 10)
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

// appendString appends s as a JSON string holding pgtext.Safe(s) (valid
// UTF-8, NUL as the four characters `\x00`: JSON's \u0000 is refused as
// text), so a batch is never refused for its content (it rides in the
// checkpoint's transaction, R2). It escapes exactly as Postgres' to_json
// does (escape_json: \b \f \n \r \t, other control characters as
// \u00xx, quote and backslash), so that a lookup can find a value in the
// stored text by its to_json form (query.go).
func appendString(b []byte, s string) []byte {
	s = pgtext.Safe(s) // s itself, without a copy, when it is already safe
	b = append(b, '"')
	start := 0 // s[start:i] is still to copy
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			b = appendEscape(append(b, s[start:i]...), c)
			start = i + 1
		}
	}
	return append(append(b, s[start:]...), '"')
}

// appendEscape appends the JSON escape of the ASCII byte c, as escape_json
// writes it.
func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, `\b`...)
	case '\f':
		return append(b, `\f`...)
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	case '\t':
		return append(b, `\t`...)
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
