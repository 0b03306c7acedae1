package ledger

import "github.com/pgbento/cdc/internal/pgtext"

// batchArgs is the number of parameters of one batch row.
const batchArgs = 6

// scratch holds one write's parameters; its buffer is reused.
type scratch struct {
	buf  []byte // every batch's JSON and array literals, one after the other
	args []any
	seen map[string]struct{} // the strings of the array being written
}

// fill encodes recs into s.args, one batch per run, and says how many.
// The emails and keys go as array literals in text (pgx would encode a
// []string element by element), made safe as the JSON is.
func (s *scratch) fill(recs []Record) int {
	s.buf, s.args = s.buf[:0], s.args[:0]
	n := 0
	for len(recs) > 0 {
		run := recs[:sameBatch(recs)]
		events := s.appendPart(func(b []byte) []byte { return appendEvents(b, run) })
		emails := s.appendPart(func(b []byte) []byte { return s.appendArray(b, run, emailsOf) })
		keys := s.appendPart(func(b []byte) []byte { return s.appendArray(b, run, keysOf) })
		first := &run[0]
		s.args = append(s.args, first.Accepted, pgtext.Safe(first.Origin), pgtext.Safe(first.Request), events, emails, keys)
		recs = recs[len(run):]
		n++
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

// emailsOf and keysOf are what the batch's emails and keys columns hold of
// one record.
func emailsOf(r *Record) (string, string) { return r.Email, "" }
func keysOf(r *Record) (string, string)   { return r.Value.UniqueKey, r.Key }

// appendArray appends the text[] literal of the distinct non-empty strings
// of recs that pick returns.
func (s *scratch) appendArray(b []byte, recs []Record, pick func(*Record) (string, string)) []byte {
	if s.seen == nil {
		s.seen = make(map[string]struct{}, len(recs))
	}
	clear(s.seen)
	b = append(b, '{')
	add := func(x string) {
		if _, dup := s.seen[x]; dup || x == "" {
			return
		}
		s.seen[x] = struct{}{}
		if len(s.seen) > 1 {
			b = append(b, ',')
		}
		b = appendElem(b, x)
	}
	for i := range recs {
		x, y := pick(&recs[i])
		add(x)
		add(y)
	}
	return append(b, '}')
}
