package bento

import (
	"context"
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// tracker orders acknowledgements: items are added in enqueue order, marked
// done in any order, and popped only as a contiguous done prefix. Only the
// acker goroutine pops, so ack calls come out in order.
type tracker struct {
	mu      sync.Mutex
	base    uint64 // sequence number of entries[0]
	entries []trackEntry
	popped  int           // popped but not yet acknowledged
	empty   chan struct{} // closed while nothing is outstanding
	isEmpty bool
	wake    chan struct{} // cap 1: something became done
	// progress is closed (and replaced) whenever acknowledgements return,
	// for senders waiting until their batch is acknowledged.
	progress chan struct{}
}

type trackEntry struct {
	pos       stream.Position
	committed time.Time
	size      int64 // bytes held of the sender's budget
	done      bool
	accepted  *stream.Delivered // set by doneWith: for the ledger
}

func newTracker() *tracker {
	t := &tracker{empty: make(chan struct{}), isEmpty: true, wake: make(chan struct{}, 1), progress: make(chan struct{})}
	close(t.empty)
	return t
}

// add appends an item and returns its sequence number.
func (t *tracker) add(pos stream.Position, committed time.Time, size int64) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isEmpty {
		t.empty, t.isEmpty = make(chan struct{}), false
	}
	t.entries = append(t.entries, trackEntry{pos: pos, committed: committed, size: size})
	return t.base + uint64(len(t.entries)-1)
}

// done marks an item done and wakes the acker.
func (t *tracker) done(seq uint64) { t.doneWith(seq, nil) }

// doneWith is done for an event Bento accepted, with its ledger record.
func (t *tracker) doneWith(seq uint64, d *stream.Delivered) {
	t.mu.Lock()
	t.entries[seq-t.base].done = true
	t.entries[seq-t.base].accepted = d
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// pop removes the contiguous done prefix and returns its last position, the
// popped entries' commit times (for latency), their ledger records, how
// many were popped and their bytes. The caller reports them with acked once
// the ack call returned.
func (t *tracker) pop() (last stream.Position, committed []time.Time, accepted []stream.Delivered, n int, size int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for n < len(t.entries) && t.entries[n].done {
		last = t.entries[n].pos
		size += t.entries[n].size
		if c := t.entries[n].committed; !c.IsZero() {
			committed = append(committed, c)
		}
		if d := t.entries[n].accepted; d != nil {
			accepted = append(accepted, *d)
		}
		n++
	}
	if n == 0 {
		return last, nil, nil, 0, 0
	}
	clear(t.entries[:n])
	t.entries = t.entries[n:]
	t.base += uint64(n)
	t.popped += n
	if len(t.entries) == 0 {
		t.entries = nil // let the grown backing array go
	}
	return last, committed, accepted, n, size
}

// acked records that n popped items were acknowledged; Drain waits for it.
func (t *tracker) acked(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.popped -= n
	close(t.progress)
	t.progress = make(chan struct{})
	if t.popped == 0 && len(t.entries) == 0 && !t.isEmpty {
		t.isEmpty = true
		close(t.empty)
	}
}

// len is the number of items not yet acknowledged.
func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries) + t.popped
}

// emptied returns a channel closed once nothing is outstanding.
func (t *tracker) emptied() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.empty
}

// waitAcked blocks until the item with sequence number seq has been
// acknowledged (the ack call returned), or ctx ends.
func (t *tracker) waitAcked(ctx context.Context, seq uint64) error {
	for {
		t.mu.Lock()
		acked := t.base - uint64(t.popped) // items below this are acknowledged
		ch := t.progress
		t.mu.Unlock()
		if seq < acked {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
