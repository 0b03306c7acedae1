package pipeline

import "github.com/pgbento/cdc/internal/bento"

// DeliveryHalted reports whether delivery is stopped on a halting Bento
// answer (401/403/404: the config is wrong), for the status page's
// cdc_delivery_halted metric.
func (s *Syncer) DeliveryHalted() bool {
	s.mu.Lock()
	sender := s.sender
	s.mu.Unlock()
	if sender == nil {
		return false
	}
	ok, _ := sender.Healthy()
	return !ok
}

// Delivery reports what delivery is doing (delivering, retrying since when
// and why, halted), for the status page; "starting" before the sender runs.
func (s *Syncer) Delivery() bento.DeliveryState {
	s.mu.Lock()
	sender := s.sender
	s.mu.Unlock()
	if sender == nil {
		return bento.DeliveryState{State: "starting"}
	}
	return sender.Delivery()
}
