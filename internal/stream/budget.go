package stream

import (
	"context"
	"sync"
)

// Budget bounds the bytes held by a queue (issue 10.8): a producer
// acquires an item's size before queueing it and the consumer releases it
// when done. An item larger than the whole budget is admitted when nothing
// else is held, so it passes alone instead of blocking forever.
type Budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	changed chan struct{} // closed and replaced at a release when watched
	watched bool          // someone holds changed: a release must close it
}

// NewBudget returns a budget of limit bytes (limit <= 0: unbounded).
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit, changed: make(chan struct{})}
}

// TryAcquire takes n bytes if they fit (or nothing else is held); it
// reports whether it did. When it did not, Changed says when to try again.
func (b *Budget) TryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.used > 0 && b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// Changed returns a channel closed at the next Release.
func (b *Budget) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.watched = true
	return b.changed
}

// Acquire blocks until n bytes are taken or ctx ends.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	for {
		changed := b.Changed()
		if b.TryAcquire(n) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Release returns n bytes and wakes waiting producers.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used = max(b.used-n, 0)
	if b.watched { // no allocation per release when nobody waits
		close(b.changed)
		b.changed, b.watched = make(chan struct{}), false
	}
}

// Used is the number of bytes held now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
