package statuspage

import (
	"sync"
	"time"
)

// window is how far back the per-minute rates look.
const window = time.Minute

// sample is the delivery counters at one moment.
type sample struct {
	at       time.Time
	requests float64
	events   float64
}

// rates keeps recent samples of the counters to show per-minute rates.
type rates struct {
	mu      sync.Mutex
	samples []sample
}

// add records s and returns the requests and events per minute since the
// oldest sample still within the window; ok is false until two samples at
// least a few seconds apart exist.
func (r *rates) add(s sample) (reqPerMin, evPerMin float64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	for len(r.samples) > 2 && s.at.Sub(r.samples[1].at) >= window {
		r.samples = r.samples[1:]
	}
	first := r.samples[0]
	dt := s.at.Sub(first.at).Minutes()
	if dt < 5.0/60 {
		return 0, 0, false
	}
	return (s.requests - first.requests) / dt, (s.events - first.events) / dt, true
}
