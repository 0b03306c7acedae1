package ledger

import (
	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// batchArgs is the number of parameters of one batch row.
const batchArgs = 4

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
	buf  []byte // every batch's JSON, one after the other
	args []any
}

// fill encodes ev into s.args, one batch per run of events that share
// their request, acceptance time and origin (one run for an
// acknowledgement), and says how many batches.
func (s *scratch) fill(ev events) int {
	s.buf, s.args = s.buf[:0], s.args[:0]
	n := 0
	for from := 0; from < ev.n; n++ {
		to := sameBatch(ev, from)
		json := s.appendPart(func(b []byte) []byte { return appendEvents(b, ev, from, to) })
		d, origin, _ := ev.get(from)
		s.args = append(s.args, d.Accepted, pgtext.Safe(origin), pgtext.Safe(d.Request), json)
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
