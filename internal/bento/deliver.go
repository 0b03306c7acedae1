package bento

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// Run delivers until ctx ends. It owns every goroutine it starts: one per
// partition, one for dead letters and the acker. When ctx ends, requests in
// flight are abandoned (not acknowledged, and queued again, so Run may be
// called again); what completed is acknowledged before Run returns nil.
func (s *Sender) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("run bento sender: already running")
	}
	defer s.running.Store(false)
	var workers, acker sync.WaitGroup
	for _, q := range s.parts {
		workers.Go(func() { s.sendLoop(ctx, q) })
	}
	workers.Go(func() { s.failureLoop(ctx) })
	if s.replays != nil && s.dlq != nil {
		workers.Go(func() { s.replayLoop(ctx) })
	}
	ackCtx, stopAcker := context.WithCancel(context.WithoutCancel(ctx))
	acker.Go(func() { s.ackLoop(ackCtx) })
	workers.Wait()
	stopAcker()
	acker.Wait()
	s.flushAcks()
	return nil
}

// ackLoop reports progress whenever an item becomes done.
func (s *Sender) ackLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.track.wake:
			s.flushAcks()
		}
	}
}

// flushAcks acknowledges the newest contiguous done position. Only ackLoop
// and Run (after ackLoop stopped) call it, so acks stay in order.
func (s *Sender) flushAcks() {
	p := s.track.pop()
	if p.n == 0 {
		return
	}
	if s.onDelivered != nil {
		s.onDelivered(p.last, p.accepted)
	} else {
		s.ack(p.last)
	}
	s.track.acked(p.n)
	now := s.poster.client.now()
	for _, c := range p.committed {
		s.metrics.latency.Observe(now.Sub(c).Seconds())
	}
	s.metrics.queueDepth.Sub(float64(p.held))
	s.metrics.queueBytes.Sub(float64(p.size))
	s.bytes.Release(p.size)
	for range p.held {
		<-s.slots
	}
}

// sendLoop serves one partition: one request in flight at a time, each
// batch a prefix of the queue. While it waits for the pacer or for the
// previous request, the queue fills: that is the group commit, and a quiet
// stream pays no added latency.
//
// The next request waits until the previous batch is acknowledged (the ack
// call, which persists the checkpoint, returned). So after a crash at any
// instant, what Bento accepted but the checkpoint does not cover is at most
// the requests in flight, one per partition.
func (s *Sender) sendLoop(ctx context.Context, q *queue) {
	for {
		if q.wait(ctx) != nil || s.passGate(ctx, q) != nil {
			return
		}
		if q.headGate() != nil {
			continue
		}
		if s.awaitPartner(ctx, q) != nil || s.poster.limiter.Wait(ctx) != nil {
			return
		}
		taken, batch := s.take(q)
		if s.deliver(ctx, batch, true, 0) != nil {
			q.requeue(taken) // abandoned: not acknowledged, sent again by a later Run
			return
		}
		if s.track.waitAcked(ctx, taken[len(taken)-1].seq) != nil {
			return
		}
	}
}

// take removes the next batch from q: the entries taken, in queue order,
// and what the request carries (the same, unless bento.coalesce_fields
// merged some of them: coalesce.go).
func (s *Sender) take(q *queue) (taken, batch []*entry) {
	if !s.cfg.CoalesceFields {
		taken = q.take(s.cfg.BatchSize, s.cfg.BatchBytes, nil)
		return taken, taken
	}
	r := newRuns()
	taken = q.take(s.cfg.BatchSize, s.cfg.BatchBytes, r)
	return taken, r.batch(s.cfg.SendNulls)
}

// passGate holds the partition at a change_email's gate until the command,
// queued in the old address's partition, is settled.
func (s *Sender) passGate(ctx context.Context, q *queue) error {
	b := q.headGate()
	if b == nil {
		return nil
	}
	b.reach()
	select {
	case <-b.settled:
		q.popGate()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// awaitPartner holds a change_email until the new address's partition has
// delivered everything queued before it.
func (s *Sender) awaitPartner(ctx context.Context, q *queue) error {
	b := q.headBarrier()
	if b == nil {
		return nil
	}
	select {
	case <-b.reached:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliver sends a batch and settles every entry in it: delivered, or
// dead-lettered. Events Bento names as failed are dead-lettered exactly;
// without names (a 400, or an older server's bare "failed" count) the batch
// is bisected to isolate them, halves left then right, so order holds.
// prior counts requests that already carried these events.
func (s *Sender) deliver(ctx context.Context, batch []*entry, tokenHeld bool, prior int) error {
	events := make([]json.RawMessage, len(batch))
	for i, e := range batch {
		events[i] = e.body
	}
	res, attempts, err := s.poster.send(ctx, batch[0].source, events, tokenHeld)
	if err != nil {
		return err
	}
	attempts += prior
	switch {
	case res.outcome == outcomeOK:
		r := s.receipt()
		for _, e := range batch {
			s.delivered(e, r)
		}
		return nil
	case res.outcome == outcomePartial && res.answer.names(len(batch)):
		return s.settleListed(ctx, batch, res, attempts)
	case len(batch) == 1:
		return s.reject(ctx, batch[0], res, attempts, res.reason())
	case res.outcome == outcomePartial:
		// Bento accepted some of these and did not say which: every one
		// sent again may arrive twice.
		s.metrics.resent.Add(float64(len(batch)))
	}
	mid := len(batch) / 2
	if err := s.deliver(ctx, batch[:mid], false, attempts); err != nil {
		return err
	}
	return s.deliver(ctx, batch[mid:], false, attempts)
}

// settleListed applies an Events API answer that names its failed events:
// those are dead-lettered with Bento's reason, the others are delivered and
// never sent again. Bento lists at most 20: when more failed, the events
// after the last listed one are unknown and are sent again (the only
// duplicates: the accepted among them). This assumes Bento lists the lowest
// failing indexes; an answer that contradicts it (consistentListing) marks
// nothing unlisted as delivered: those events are all sent again. A named
// merged event is un-merged (coalesce_unmerge.go): its parts are sent
// again, and so is what followed it for its subscriber.
func (s *Sender) settleListed(ctx context.Context, batch []*entry, res result, attempts int) error {
	reasons, last := res.answer.listed(len(batch))
	known := len(batch)
	if res.answer.Failed > len(reasons) {
		known = last + 1
	}
	trusted := consistentListing(res, known-len(reasons))
	r := s.receipt()
	var again []*entry
	var un unmerged
	for i, e := range batch {
		reason, bad := reasons[i]
		switch {
		case bad && e.parts != nil:
			again = un.add(again, e)
		case bad:
			if err := s.reject(ctx, e, res, attempts, "bento rejected the event: "+reason); err != nil {
				return err
			}
		case trusted && i < known && !un.follows(e):
			s.delivered(e, r)
		default:
			again = append(again, e)
		}
	}
	if len(again) == 0 {
		return nil
	}
	s.metrics.resent.Add(float64(len(again) - un.parts))
	return s.deliverApart(ctx, again, attempts)
}

// consistentListing reports whether an answer's unlisted events up to its
// last listed one (unlisted of them) can all have been accepted: no more
// than Bento's results count, and none on a 422 (every event rejected).
func consistentListing(res result, unlisted int) bool {
	if res.status == http.StatusUnprocessableEntity {
		return unlisted == 0
	}
	return unlisted <= res.answer.Results
}

// receipt names one accepted request for the ledger (zero when the
// sender reports no deliveries).
func (s *Sender) receipt() receipt {
	if s.onDelivered == nil {
		return receipt{}
	}
	return receipt{id: requestID(), at: s.poster.client.now()}
}

// delivered settles an entry Bento accepted in the request r names. A
// merged entry counts once, as the one event Bento received; its ledger
// record goes with its last part, and every part is done.
func (s *Sender) delivered(e *entry, r receipt) {
	s.metrics.delivered.WithLabelValues(e.item.Event.Rule).Inc()
	var d *stream.Delivered
	if s.onDelivered != nil {
		d = accepted(e, r.id, r.at)
	}
	if e.parts == nil {
		s.settleWith(e, d)
		return
	}
	last := len(e.parts) - 1
	s.metrics.coalesced.Add(float64(last))
	for _, p := range e.parts[:last] {
		s.settle(p)
	}
	s.settleWith(e.parts[last], d)
}

// reject dead-letters an entry Bento refused on its own. A merged entry is
// un-merged instead (coalesce_unmerge.go): merging never widens a
// rejection.
func (s *Sender) reject(ctx context.Context, e *entry, res result, attempts int, reason string) error {
	if e.parts != nil {
		return s.unmerge(ctx, e, attempts)
	}
	return s.deadLetter(ctx, e, rejected(e, res, attempts, reason))
}

// settle marks an entry done (delivered or durably dead-lettered) and
// releases the partition waiting at its change_email gate.
func (s *Sender) settle(e *entry) { s.settleWith(e, nil) }

// settleWith is settle with the ledger record of an accepted event.
func (s *Sender) settleWith(e *entry, d *stream.Delivered) {
	e.done = true
	if e.barrier != nil {
		e.barrier.settle()
	}
	s.track.doneWith(e.seq, d)
}

// failureLoop dead-letters rule failures and unencodable events in order.
func (s *Sender) failureLoop(ctx context.Context) {
	for {
		if s.failures.wait(ctx) != nil {
			return
		}
		batch := s.failures.take(1, 0, nil)
		if s.deadLetter(ctx, batch[0], failed(batch[0])) != nil {
			s.failures.requeue(batch)
			return
		}
	}
}

// deadLetter writes d, retrying until it is durable (the item is only done
// then), and marks the entry done.
func (s *Sender) deadLetter(ctx context.Context, e *entry, d DeadLetter) error {
	if s.origin != "" {
		d.Pos, d.Reason = stream.Position{}, s.origin+": "+d.Reason
	}
	bo := retry.Backoff(s.poster.initial, s.cfg.MaxBackoff)
	for {
		err := errors.New("no dead-letter store configured")
		if s.dlq != nil {
			err = s.dlq.Put(ctx, d)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.health.storeFailed(err)
		if err := s.poster.sleep(ctx, bo.NextBackOff()); err != nil {
			return err
		}
	}
	s.health.storeRecovered()
	s.metrics.deadLetter.WithLabelValues(d.Kind).Inc()
	s.log.WarnContext(ctx, "dead-lettered an event", slog.String("kind", d.Kind), slog.String("rule", d.Rule),
		slog.String("table", d.Table), slog.String("pos", d.Pos.String()), slog.String("reason", d.Reason))
	s.settle(e)
	return nil
}

// rejected is the dead letter for an event Bento refused. The response
// and reason come from Bento and are already redacted.
func rejected(e *entry, res result, attempts int, reason string) DeadLetter {
	ev := e.item.Event
	return DeadLetter{
		Kind: KindRejected, Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Reason: reason,
		Status: res.status, Response: truncate(res.body, maxStoredBody), Attempts: attempts,
		Pos: e.item.Pos, Event: e.body, Source: sourceOf(ev),
	}
}

// failed is the dead letter for a rule failure or an unencodable event.
func failed(e *entry) DeadLetter {
	if f := e.item.Failure; f != nil {
		return DeadLetter{
			Kind: KindRule, Rule: f.Rule, Table: f.Table, Key: f.Key, Reason: f.Reason,
			Pos: f.Pos, Event: f.Event, Change: f.Change,
		}
	}
	ev := e.item.Event
	// Best effort: the operator sees what the rule produced. A change_email
	// keeps its command form, so a replay sends it as a command.
	partial, _ := json.Marshal(wireEvent{Type: ev.Type, Email: ev.Email, Fields: ev.Fields, Details: ev.Details})
	if ev.Type == stream.TypeChangeEmail {
		if cmd, err := encodeChangeEmail(ev); err == nil {
			partial = cmd
		}
	}
	return DeadLetter{
		Kind: KindRejected, Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Reason: e.bad.Error(),
		Pos: e.item.Pos, Event: partial, Source: sourceOf(ev),
	}
}

// replayLoop serves the replay hand-off: dead letters `cdc dlq replay`
// marked are replayed through the sender's own limiter (see HandOff).
func (s *Sender) replayLoop(ctx context.Context) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.replayRequested(ctx)
		}
	}
}

// replayRequested replays the marked dead letters and unmarks those that
// stay. A failure leaves the marks for the next poll.
func (s *Sender) replayRequested(ctx context.Context) {
	ids, err := s.dlq.requestedReplays(ctx)
	if err != nil || len(ids) == 0 {
		return
	}
	p := *s.poster
	p.health = nil // a halt ends this replay; the stream's own requests report it
	res, err := replayIDs(ctx, s.dlq, &p, *s.replays, ids)
	if err != nil {
		s.log.WarnContext(ctx, "replaying dead letters on request failed; trying again", slog.String("error", err.Error()))
		return
	}
	kept := make([]int64, 0, len(res.Failed))
	for _, f := range res.Failed {
		kept = append(kept, f.ID)
	}
	if err := s.dlq.clearReplayRequests(ctx, kept); err != nil {
		s.log.WarnContext(ctx, "cannot clear replay requests", slog.String("error", err.Error()))
	}
	s.log.InfoContext(ctx, "replayed dead letters on request", slog.Int("replayed", len(res.Replayed)), slog.Int("kept", len(kept)))
}
