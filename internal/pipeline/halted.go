package pipeline

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
