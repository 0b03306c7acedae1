package bento

import (
	"maps"
	"strings"

	"github.com/pgbento/cdc/internal/stream"
)

// Coalescing (issue 14, item 6; bento.coalesce_fields, off by default):
// while a batch is taken from a partition, an $update_fields event for a
// subscriber whose previous entry in the same batch is also an
// $update_fields for the same address, exactly as written (with nothing
// else for that subscriber between them), joins it, and the request
// carries one event for the run: its fields key by key, later values
// winning (a null too, so a field a later change cleared is not sent with
// an earlier value), and the latest date. Entries for other subscribers in
// between do not break a run; any other event for the subscriber (a
// purchase, a tag, a change_email, an $update_fields with details, or one
// for the address spelled otherwise) does.
//
// The merged entry stands for its parts in everything after the request:
// accepted, every part is done (the batch's acknowledged position is
// unchanged) and the ledger records the one event Bento received, under
// the last part's position, rule and row; rejected, it is un-merged: its
// parts are sent again, alone, so only a part Bento rejects on its own
// becomes a dead letter (coalesce_unmerge.go); an abandoned batch puts
// the parts back, to be merged again.

// mergeable reports whether an event may join or start a run: an
// $update_fields without details (details would need a merge rule of
// their own, and a value in them belongs to one event).
func mergeable(ev *stream.Event) bool {
	return ev.Type == stream.TypeUpdateFields && len(ev.Details) == 0
}

// emailKey is how partitioning compares emails: addresses that may name
// one subscriber (Bento's contract does not say whether case or spaces
// matter) hash alike, so their events are serialised in one partition.
// Coalescing merges only addresses exactly equal; another spelling of the
// key breaks a run instead (runs.run).
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// runs groups the entries of a batch being taken into what the request
// carries. A nil *runs merges nothing.
type runs struct {
	groups [][]*entry
	open   map[string]int // emailKey -> index in groups of the open run for that key
}

func newRuns() *runs { return &runs{open: map[string]int{}} }

// joins reports whether e would join an earlier entry of the batch.
func (r *runs) joins(e *entry) bool {
	if r == nil || !e.merge {
		return false
	}
	_, ok := r.run(e.item.Event.Email)
	return ok
}

// run is the open run an $update_fields for email may join: the one open
// for its emailKey, when its address is email exactly as written. Merging
// Ann@x.com into ann@x.com could send a field to another subscriber than
// the database meant, if Bento tells them apart.
func (r *runs) run(email string) (int, bool) {
	i, ok := r.open[emailKey(email)]
	return i, ok && r.groups[i][0].item.Event.Email == email
}

// add places e and reports whether it joined an earlier entry (then the
// request carries no more events for it).
func (r *runs) add(e *entry) bool {
	if r == nil {
		return false
	}
	ev := e.item.Event
	if i, ok := r.run(ev.Email); ok && e.merge {
		r.groups[i] = append(r.groups[i], e)
		return true
	}
	key := emailKey(ev.Email)
	delete(r.open, key) // anything else that may be this subscriber's ends its run
	if ev.NewEmail != "" {
		delete(r.open, emailKey(ev.NewEmail))
	}
	if e.merge {
		r.open[key] = len(r.groups)
	}
	r.groups = append(r.groups, []*entry{e})
	return false
}

// batch is what the request carries, in order: each run merged into one
// entry at the place of its first part.
func (r *runs) batch(keepNulls bool) []*entry {
	out := make([]*entry, 0, len(r.groups))
	for _, g := range r.groups {
		if len(g) == 1 {
			out = append(out, g[0])
			continue
		}
		if m := merged(g, keepNulls); m != nil {
			out = append(out, m)
			continue
		}
		// Cannot happen (each part encoded, and so does the union of their
		// fields); sending the parts one by one loses nothing.
		out = append(out, g...)
	}
	return out
}

// merged is the one entry a run is sent as, or nil when it cannot be
// encoded. Its fields are the parts' fields, later values winning key by
// key; nulls are kept through the merge and left out (or sent) only when
// encoding, as send_nulls says, so a later null still hides an earlier
// value. It carries the last part's sequence number, position and
// identity, and the latest date of the run.
func merged(parts []*entry, keepNulls bool) *entry {
	last := parts[len(parts)-1]
	ev := *last.item.Event
	ev.Fields = make(map[string]any)
	for _, p := range parts {
		maps.Copy(ev.Fields, p.item.Event.Fields)
		if d := p.item.Event.Date; d.After(ev.Date) {
			ev.Date = d
		}
	}
	body, err := encodeEvent(&ev, keepNulls)
	if err != nil {
		return nil
	}
	ev.Fields = nil
	m := &entry{seq: last.seq, item: last.item, body: body, source: last.source, value: last.value, parts: parts}
	m.item.Event = &ev
	return m
}
