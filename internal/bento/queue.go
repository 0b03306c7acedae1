package bento

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/pgbento/cdc/internal/stream"
)

// entry is one enqueued item on its way through a partition, or the gate
// of a change_email barrier (gate set; no item, never sent or tracked).
type entry struct {
	seq     uint64
	item    stream.Item
	body    json.RawMessage // wire JSON of the event, or of the command
	source  string          // endpoint key: the webhook source, "" for the Events API, commandsSource
	bad     error           // set when the event cannot be encoded: dead-letter it
	done    bool            // delivered or dead-lettered (set by the one goroutine handling it)
	barrier *barrier        // a change_email whose new address is in another partition
	gate    *barrier        // a gate: this partition waits here for that change_email
	value   stream.Value    // for the ledger, when OnDelivered is set
	merge   bool            // an $update_fields that bento.coalesce_fields may merge (coalesce.go)
	parts   []*entry        // a merged $update_fields: the entries it is sent for, in order
}

// queue is a FIFO of entries with a wake-up signal for its single consumer.
type queue struct {
	mu    sync.Mutex
	items []*entry
	wake  chan struct{} // cap 1
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

func (q *queue) push(e *entry) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// requeue puts the unfinished entries of an abandoned batch back at the
// front, in order, so a later Run sends them again.
func (q *queue) requeue(batch []*entry) {
	var left []*entry
	for _, e := range batch {
		if !e.done {
			left = append(left, e)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(left, q.items...)
}

// wait blocks until the queue is non-empty or ctx ends.
func (q *queue) wait(ctx context.Context) error {
	for {
		q.mu.Lock()
		n := len(q.items)
		q.mu.Unlock()
		if n > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-q.wake:
		}
	}
}

// head is the first entry, or nil.
func (q *queue) head() *entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

// headGate is the barrier of a gate at the head, or nil.
func (q *queue) headGate() *barrier {
	if e := q.head(); e != nil {
		return e.gate
	}
	return nil
}

// headBarrier is the barrier of a change_email at the head, or nil.
func (q *queue) headBarrier() *barrier {
	if e := q.head(); e != nil {
		return e.barrier
	}
	return nil
}

// popGate removes the gate at the head.
func (q *queue) popGate() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[0] = nil
	q.items = q.items[1:]
}

// take removes the longest prefix that fits one request: at most maxN
// events (MaxCommandsPerRequest commands), about maxBytes of body, one
// endpoint, no gate, and a change_email with a barrier alone. The first
// entry is always taken, so an oversized event still goes out (and a 413
// isolates it). The caller has passed any gate at the head. With r, an
// entry that joins an earlier one's run (coalesce.go) does not count
// toward maxN, and r.batch is what the request carries; its bytes still
// count, an upper bound of the merged event's.
func (q *queue) take(maxN, maxBytes int, r *runs) []*entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	src := q.items[0].source
	if src == commandsSource {
		maxN = MaxCommandsPerRequest
	}
	n, sent, size := 0, 0, envelopeBytes
	for n < len(q.items) {
		e := q.items[n]
		if e.source != src || e.gate != nil || (n > 0 && (e.barrier != nil || q.items[0].barrier != nil)) ||
			(n > 0 && size+len(e.body)+1 > maxBytes) || (sent == maxN && !r.joins(e)) {
			break
		}
		if !r.add(e) {
			sent++
		}
		size += len(e.body) + 1
		n++
	}
	batch := make([]*entry, n)
	copy(batch, q.items)
	clear(q.items[:n])
	q.items = q.items[n:]
	if len(q.items) == 0 {
		q.items = nil
	}
	return batch
}
