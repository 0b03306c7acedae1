package bento

import (
	"context"
	"log/slog"
)

// Un-merging (bento.coalesce_fields, coalesce.go): a merged $update_fields
// Bento rejects is never dead-lettered as a whole, since a part Bento would
// accept on its own would then be lost to a rejection merging caused (the
// design: other 4xx, find the bad events, dead-letter them, deliver the
// rest). Its parts go to Bento again, each its own event, in order,
// through deliver: a bad one becomes a dead letter with Bento's reason for
// it alone, the others are delivered with their own ledger records. They
// are not merged again. They stay in the batch the partition took, so the
// next request still waits for the whole batch's acknowledgement, and
// cdc_bento_events_coalesced_total, counted when Bento accepts a merged
// event, never counts them.

// unmerge sends again, as separate events, the parts of a merged entry
// Bento rejected on its own: a webhook 400 that bisection isolated, a 413, a 422 without
// a list. Nothing after it in the request was accepted (bisection sends
// left halves first), so its subscriber's order holds.
func (s *Sender) unmerge(ctx context.Context, e *entry, attempts int) error {
	s.log.InfoContext(ctx, "bento rejected a merged $update_fields; sending its events apart",
		slog.Int("events", len(e.parts)))
	return s.deliverApart(ctx, e.parts, attempts)
}

// deliverApart delivers entries sent again, in order, at most batch_size a
// request: a merged entry counted as one of batch_size, so its parts may
// outnumber the batch they were taken in.
func (s *Sender) deliverApart(ctx context.Context, entries []*entry, attempts int) error {
	for len(entries) > 0 {
		n := min(len(entries), s.cfg.BatchSize)
		if err := s.deliver(ctx, entries[:n], false, attempts); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

// unmerged gathers, while an Events API answer is settled, the merged
// entries it names as failed. Bento already took the rest of the request,
// so a later entry for the same subscriber (by emailKey: it may be the
// same) would otherwise reach Bento before the parts: it is sent again
// after them (and may arrive twice, counted in
// cdc_bento_resent_events_total), so the subscriber's events end in
// commit order.
type unmerged struct {
	keys  map[string]bool
	parts int // parts sent again: not duplicates, Bento accepted none of them
}

// add appends a named merged entry's parts to again.
func (u *unmerged) add(again []*entry, e *entry) []*entry {
	if u.keys == nil {
		u.keys = map[string]bool{}
	}
	u.keys[emailKey(e.item.Event.Email)] = true
	u.parts += len(e.parts)
	return append(again, e.parts...)
}

// follows reports whether e is for a subscriber whose merged entry was
// un-merged earlier in the batch.
func (u *unmerged) follows(e *entry) bool {
	return len(u.keys) > 0 && u.keys[emailKey(e.item.Event.Email)]
}
