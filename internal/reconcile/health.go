package reconcile

import (
	"sync"

	"github.com/pgbento/cdc/internal/bento"
)

// Health is the health of the repair senders running now, for the
// syncer's Ready: a repair halted by Bento (a 401) shows on /readyz while it
// lasts. The zero value has none; safe for concurrent use.
type Health struct {
	mu      sync.Mutex
	senders map[*bento.Sender]struct{}
}

// Healthy reports the first running repair sender that is not healthy.
func (h *Health) Healthy() (ok bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.senders {
		if ok, why := s.Healthy(); !ok {
			return false, why
		}
	}
	return true, ""
}

// watch reports s until the returned func is called; a nil Health
// watches nothing.
func (h *Health) watch(s *bento.Sender) (unwatch func()) {
	if h == nil {
		return func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.senders == nil {
		h.senders = map[*bento.Sender]struct{}{}
	}
	h.senders[s] = struct{}{}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.senders, s)
	}
}
