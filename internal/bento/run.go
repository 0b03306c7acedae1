package bento

import (
	"context"
	"errors"
	"sync"
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
	last, committed, n, size := s.track.pop()
	if n == 0 {
		return
	}
	s.ack(last)
	s.track.acked(n)
	now := s.poster.client.now()
	for _, c := range committed {
		s.metrics.latency.Observe(now.Sub(c).Seconds())
	}
	s.metrics.queueDepth.Sub(float64(n))
	s.metrics.queueBytes.Sub(float64(size))
	s.bytes.Release(size)
	for range n {
		<-s.slots
	}
}
