package ledger

import (
	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// batchArgs is the number of parameters of one batch row.
const batchArgs = 6

// events is what one write records: n events, each with its origin and,
// for a reconcile correction, the key it adjusts. It lets the stream's
// acknowledgement be written from the sender's slice, without a copy.
type events struct {
	n   int
	get func(i int) (d *stream.Delivered, origin, adjusts string)
}

func recordEvents(recs []Record) events {
	return events{n: len(recs), get: func(i int) (*stream.Delivered, string, string) {
		return &recs[i].Delivered, recs[i].Origin, recs[i].Adjusts
	}}
}

func streamEvents(ds []stream.Delivered) events {
	return events{n: len(ds), get: func(i int) (*stream.Delivered, string, string) { return &ds[i], OriginStream, "" }}
}

// scratch holds one write's parameters; its buffer is reused.
type scratch struct {
	buf  []byte // every batch's JSON and array literals, one after the other
	args []any
}

// fill encodes ev into s.args, one batch per run of events that share
// their request, acceptance time and origin (one run for an
// acknowledgement), and says how many batches. The emails and keys go as
// array literals in text (pgx would encode a []string element by element).
func (s *scratch) fill(ev events) int {
	s.buf, s.args = s.buf[:0], s.args[:0]
	n := 0
	for from := 0; from < ev.n; n++ {
		to := sameBatch(ev, from)
		json := s.appendPart(func(b []byte) []byte { return appendEvents(b, ev, from, to) })
		emails := s.appendPart(func(b []byte) []byte { return appendArray(b, ev, from, to, emailsOf) })
		keys := s.appendPart(func(b []byte) []byte { return appendArray(b, ev, from, to, keysOf) })
		d, origin, _ := ev.get(from)
		s.args = append(s.args, d.Accepted, pgtext.Safe(origin), pgtext.Safe(d.Request), json, emails, keys)
		from = to
	}
	return n
}

// appendPart appends what add writes to s.buf and returns it as its own
// slice (later appends may move s.buf, never this part's bytes).
func (s *scratch) appendPart(add func([]byte) []byte) []byte {
	start := len(s.buf)
	s.buf = add(s.buf)
	return s.buf[start:len(s.buf):len(s.buf)]
}

// sameBatch is the end of the run of events from from that share its
// request, acceptance time and origin: the columns of one batch row.
func sameBatch(ev events, from int) int {
	f, origin, _ := ev.get(from)
	to := from + 1
	for ; to < ev.n; to++ {
		d, o, _ := ev.get(to)
		if d.Request != f.Request || o != origin || !d.Accepted.Equal(f.Accepted) {
			break
		}
	}
	return to
}

// emailsOf and keysOf are what the batch's emails and keys columns hold of
// one event.
func emailsOf(d *stream.Delivered) (string, string) { return d.Email, "" }
func keysOf(d *stream.Delivered) (string, string)   { return d.Value.UniqueKey, d.Key }

// appendArray appends the text[] literal of the non-empty strings that
// pick returns for the events [from, to). A string equal to the one before
// is left out (the same customer or row again); other repeats stay: they
// cost a few bytes, and a map to find them cost more than the whole JSON
// encoding.
func appendArray(b []byte, ev events, from, to int, pick func(*stream.Delivered) (string, string)) []byte {
	b = append(b, '{')
	prev, first := "", true
	add := func(x string) {
		if x == "" || (!first && x == prev) {
			return
		}
		if !first {
			b = append(b, ',')
		}
		b = appendQuoted(b, x, false)
		prev, first = x, false
	}
	for i := from; i < to; i++ {
		d, _, _ := ev.get(i)
		x, y := pick(d)
		add(x)
		add(y)
	}
	return append(b, '}')
}
