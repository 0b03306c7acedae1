package replication

// TextDecoder turns text-format column values into the Go values of
// internal/stream/doc_values.go exactly as the replication stream decodes
// them. A backfill reads existing rows in text format and decodes them here,
// so rules see the same values for a row whether it came from the WAL or
// from a SELECT.
//
// The text forms of dates and times depend on the session's settings: read
// under TextSessionSettings, as the replication connection does. A
// TextDecoder caches pgx's type plans and is not safe for concurrent use.
type TextDecoder struct{ values valueDecoder }

// NewTextDecoder returns a decoder. It does no I/O.
func NewTextDecoder() *TextDecoder { return &TextDecoder{values: newValueDecoder()} }

// Decode returns the typed value of text, a non-NULL text-format value of
// Postgres type oid. Types it does not know come back as their text; a
// value the syncer cannot hold comes back as stream.Unrepresentable, as it
// does from the stream, so the error is always nil.
func (d *TextDecoder) Decode(oid uint32, text []byte) (any, error) {
	return d.values.value(oid, text), nil
}

// TextSessionSettings are the session settings (name, value) under which
// text values read with a normal connection look exactly like pgoutput's.
func TextSessionSettings() [][2]string {
	var out [][2]string
	for _, k := range []string{"DateStyle", "TimeZone", "IntervalStyle", "extra_float_digits"} {
		out = append(out, [2]string{k, replicationParams[k]})
	}
	return out
}
