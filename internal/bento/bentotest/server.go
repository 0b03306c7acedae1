// Package bentotest is the test-only wrapper around bentofake: a fake Bento
// on a local httptest server that can go down (connection refused) and come
// back on the same address. The fake's types are re-exported so tests name
// one package. Nothing outside tests imports it: it pulls in testing and
// net/http/httptest, which the cdc binary must not carry.
package bentotest

import (
	"net"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/pgbento/cdc/internal/bento/bentofake"
)

// The fake and its vocabulary, from bentofake.
type (
	Bento         = bentofake.Bento
	Options       = bentofake.Options
	Response      = bentofake.Response
	ReceivedEvent = bentofake.ReceivedEvent
	Request       = bentofake.Request
	Command       = bentofake.Command
)

// New returns a fake handler with the given checks (see bentofake.New).
func New(o Options) *Bento { return bentofake.New(o) }

// Server is a fake Bento on a local address that can go down (connection
// refused) and come back on the same address.
type Server struct {
	*Bento
	URL string // base URL, e.g. "http://127.0.0.1:43121"

	mu   sync.Mutex
	addr string
	hs   *httptest.Server // nil while stopped
}

// NewServer starts a fake Bento with no checks (see SetOptions) and closes
// it when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{Bento: New(Options{})}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("bentotest: listen: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := httptest.NewUnstartedServer(s.Bento)
	hs.Listener = l
	hs.Start()
	s.hs, s.addr, s.URL = hs, l.Addr().String(), hs.URL
	return nil
}

// Stop closes the listener and every connection: clients now get
// "connection refused". Stopping twice is fine.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs == nil {
		return
	}
	s.Interrupt()
	s.hs.CloseClientConnections()
	s.hs.Close()
	s.hs = nil
}

// Start listens again on the same address after Stop.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs != nil {
		return
	}
	if err := s.listen(s.addr); err != nil {
		t.Fatalf("bentotest: listen again on %s: %v", s.addr, err)
	}
}
