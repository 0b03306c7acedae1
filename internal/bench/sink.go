package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/pgbento/cdc/internal/bento/bentofake"
)

// sink is the stand-in Bento: bentofake's fake, which checks and parses
// every request as Bento would, behind a wrapper that counts what it
// accepted and forgets it, so a million events do not pile up in memory.
// Requests are handled one at a time; the fake serialises its parsing
// anyway, so that costs the syncer nothing it would not pay.
type sink struct {
	fake *bentofake.Bento
	srv  *http.Server
	url  string

	mu       sync.Mutex
	count    int
	requests int
	first    time.Time            // first accepted request
	last     time.Time            // last accepted request
	times    map[string]time.Time // receipt time by details.unique.key; nil: not kept
	dups     int                  // keys seen twice (only when times is kept)
	want     int
	reached  chan struct{} // closed when count reaches want
	sizes    []int         // events per accepted request, in arrival order
}

// startSink listens on a free loopback port. keepTimes records each
// event's receipt time by its unique key (the steady mode needs them).
// delay slows every answer down (a slow Bento).
func startSink(keepTimes bool, delay time.Duration) (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the stand-in: %w", err)
	}
	s := &sink{fake: bentofake.New(bentofake.Options{SiteUUID: siteUUID}), url: "http://" + ln.Addr().String()}
	if delay > 0 {
		s.fake.SetFault(&bentofake.Response{Delay: delay})
	}
	if keepTimes {
		s.times = map[string]time.Time{}
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) close() { _ = s.srv.Close() }

// ServeHTTP lets the fake answer, then takes what it accepted.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fake.ServeHTTP(w, r)
	events, requests := s.fake.Received(), s.fake.Requests()
	s.fake.Forget()
	if len(events) == 0 || len(requests) == 0 {
		return
	}
	at := requests[len(requests)-1].Time // when the body had been read
	if s.first.IsZero() {
		s.first = at
	}
	s.last = at
	s.requests++
	s.count += len(events)
	s.sizes = append(s.sizes, len(events))
	if s.times != nil {
		for _, ev := range events {
			s.note(ev.UniqueKey(), at)
		}
	}
	if s.reached != nil && s.count >= s.want {
		close(s.reached)
		s.reached = nil
	}
}

func (s *sink) note(key string, at time.Time) {
	if _, seen := s.times[key]; seen {
		s.dups++
		return
	}
	s.times[key] = at
}

// waitFor blocks until n events have arrived in total, ctx ends, or
// exited (the syncer's) is closed.
func (s *sink) waitFor(ctx context.Context, n int, exited <-chan struct{}) error {
	s.mu.Lock()
	if s.count >= n {
		s.mu.Unlock()
		return nil
	}
	s.want, s.reached = n, make(chan struct{})
	reached := s.reached
	s.mu.Unlock()
	select {
	case <-reached:
		return nil
	case <-exited:
		return fmt.Errorf("the syncer exited before delivering %d events (%d arrived)", n, s.received())
	case <-ctx.Done():
		return fmt.Errorf("waiting for %d events (%d arrived): %w", n, s.received(), ctx.Err())
	}
}

// sinkStats is a snapshot of what arrived.
type sinkStats struct {
	count, requests, dups int
	first, last           time.Time
	sizes                 []int // events per request, in order
}

func (s *sink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sinkStats{count: s.count, requests: s.requests, dups: s.dups, first: s.first, last: s.last, sizes: slices.Clone(s.sizes)}
}

func (s *sink) received() int { return s.stats().count }

// receivedAt returns the receipt time of the event with key.
func (s *sink) receivedAt(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.times[key]
	return t, ok
}
