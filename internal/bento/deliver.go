package bento

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
)

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
		if q.wait(ctx) != nil || s.poster.limiter.Wait(ctx) != nil {
			return
		}
		batch := q.take(s.cfg.BatchSize, s.cfg.BatchBytes)
		if s.deliver(ctx, batch, true, 0) != nil {
			q.requeue(batch) // abandoned: not acknowledged, sent again by a later Run
			return
		}
		if s.track.waitAcked(ctx, batch[len(batch)-1].seq) != nil {
			return
		}
	}
}

// deliver sends a batch and settles every entry in it: delivered, or
// isolated by bisection and dead-lettered. Halves go left then right, so
// order holds. prior counts requests that already carried these events.
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
	if res.outcome == outcomeOK {
		var req string
		if s.onDelivered != nil {
			req = requestID()
		}
		now := s.poster.client.now()
		for _, e := range batch {
			s.metrics.delivered.WithLabelValues(e.item.Event.Rule).Inc()
			e.done = true
			if s.onDelivered != nil {
				s.track.doneWith(e.seq, accepted(e, req, now))
			} else {
				s.track.done(e.seq)
			}
		}
		return nil
	}
	if len(batch) == 1 {
		return s.deadLetter(ctx, batch[0], rejected(batch[0], res, attempts))
	}
	mid := len(batch) / 2
	if err := s.deliver(ctx, batch[:mid], false, attempts); err != nil {
		return err
	}
	return s.deliver(ctx, batch[mid:], false, attempts)
}

// failureLoop dead-letters rule failures and unencodable events in order.
func (s *Sender) failureLoop(ctx context.Context) {
	for {
		if s.failures.wait(ctx) != nil {
			return
		}
		batch := s.failures.take(1, 0)
		if s.deadLetter(ctx, batch[0], failed(batch[0])) != nil {
			s.failures.requeue(batch)
			return
		}
	}
}

// deadLetter writes d, retrying until it is durable (the item is only done
// then), and marks the entry done.
func (s *Sender) deadLetter(ctx context.Context, e *entry, d DeadLetter) error {
	bo := newBackoff(s.poster.initial, s.cfg.MaxBackoff)
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
		if err := sleep(ctx, bo.NextBackOff()); err != nil {
			return err
		}
	}
	s.health.storeRecovered()
	s.metrics.deadLetter.WithLabelValues(d.Kind).Inc()
	e.done = true
	s.log.WarnContext(ctx, "dead-lettered an event", slog.String("kind", d.Kind), slog.String("rule", d.Rule),
		slog.String("table", d.Table), slog.String("pos", d.Pos.String()), slog.String("reason", d.Reason))
	s.track.done(e.seq)
	return nil
}

// rejected is the dead letter for an event Bento refused.
func rejected(e *entry, res result, attempts int) DeadLetter {
	ev := e.item.Event
	return DeadLetter{
		Kind: KindRejected, Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Reason: res.reason(),
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
	// Best effort: the operator sees what the rule produced.
	partial, _ := json.Marshal(wireEvent{Type: ev.Type, Email: ev.Email, Fields: ev.Fields, Details: ev.Details})
	return DeadLetter{
		Kind: KindRejected, Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Reason: e.bad.Error(),
		Pos: e.item.Pos, Event: partial, Source: sourceOf(ev),
	}
}
