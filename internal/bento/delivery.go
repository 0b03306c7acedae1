package bento

import "time"

// DeliveryState is what delivery is doing right now, for the status page:
// delivering, retrying a failing request (Bento unreachable or answering
// 5xx/429) or halted, with since when and the last error.
type DeliveryState struct {
	// State is "delivering", "retrying" or "halted".
	State string
	// Since is when the retrying or the halt began (zero while delivering).
	Since time.Time
	// LastError is the last failed answer (or the halt's reason).
	LastError string
}

// Delivery reports what delivery is doing right now.
func (s *Sender) Delivery() DeliveryState { return s.health.delivery() }

// retrying records a retryable failure; the first one of a run of failures
// sets since.
func (h *health) retrying(reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.retrySince.IsZero() {
		h.retrySince = h.now()
	}
	h.retryReason = reason
}

// delivery is the state DeliveryState describes.
func (h *health) delivery() DeliveryState {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.store != "":
		return DeliveryState{State: "halted", Since: h.haltSince, LastError: h.store}
	case h.halted:
		return DeliveryState{State: "halted", Since: h.haltSince, LastError: h.reason}
	case !h.retrySince.IsZero():
		return DeliveryState{State: "retrying", Since: h.retrySince, LastError: h.retryReason}
	}
	return DeliveryState{State: "delivering"}
}
