// Package bentofake is a stand-in for Bento used by the tests, the demo and
// the benchmark: an http.Handler that speaks both transports (webhook and
// Events API, with its commands endpoint) as Bento's published contract
// describes them, records the events and commands it accepts, checks
// credentials and signatures when told to, and injects faults (status codes,
// Retry-After, redirects, delays, hangs, answers held until released, closed
// connections, size limits, rejected events).
//
// It imports neither testing nor net/http/httptest, so the cdc binary can
// carry it for `cdc demo` and `cdc bench`; bentotest wraps it in a test
// server. It owns no knowledge of the syncer and does not import it.
package bentofake

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options are the credentials the fake checks; empty fields are not checked.
type Options struct {
	SiteUUID       string            // other sites get 404
	PublishableKey string            // Events API Basic auth user; wrong gets 401
	SecretKey      string            // Events API Basic auth password
	SigningSecret  string            // unsigned or badly signed requests get 401
	Headers        map[string]string // headers a relay would require; missing gets 401
}

// Response scripts the answer to one request. A zero Status with no fault
// flag means: answer normally (after Delay).
type Response struct {
	Status     int             // answer with this status and Body instead of processing
	Body       string          // body for Status
	RetryAfter string          // Retry-After header value
	Delay      time.Duration   // wait before answering
	Hang       bool            // never answer: block until the client gives up
	Release    <-chan struct{} // when set, answer (normally or with Status) once it is closed
	CloseConn  bool            // close the connection without an answer
	Location   string          // Location header (with a 3xx Status: a redirect)
}

// ReceivedEvent is one event the fake accepted.
type ReceivedEvent struct {
	Transport string // "webhook" or "events_api"
	Site      string
	Source    string // webhook source segment
	Type      string
	Email     string
	Fields    map[string]any
	Details   map[string]any
	Date      string
	Raw       json.RawMessage
	Request   int // index into Requests
	Profile   int // the subscriber it landed on (see Profiles)
}

// Command is one command the fake accepted on /api/v1/fetch/commands.
type Command struct {
	Command string // e.g. "change_email"
	Email   string
	Query   string
	Request int // index into Requests
}

// Request is one HTTP request the fake saw, whatever it answered.
type Request struct {
	Method string
	Path   string
	Query  string // the raw query string
	Header http.Header
	Body   []byte
	Status int       // 0: no answer (hang, closed connection)
	Time   time.Time // when it arrived
}

// Bento is the fake. Safe for concurrent use; the zero value is not usable,
// use New.
type Bento struct {
	mu        sync.Mutex
	opts      Options
	received  []ReceivedEvent
	commands  []Command
	profiles  profiles
	requests  []Request
	script    []Response
	fault     *Response
	reject    func(ReceivedEvent) bool
	maxEvents int
	maxBytes  int
	abort     chan struct{} // closed to release hanging handlers
}

// New returns a fake with the given checks.
func New(o Options) *Bento {
	return &Bento{opts: o, abort: make(chan struct{}), profiles: newProfiles()}
}

// SetOptions replaces the checks (e.g. to fix credentials mid-test).
func (b *Bento) SetOptions(o Options) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opts = o
}

// Script queues answers for the next requests, one each, in order.
func (b *Bento) Script(rs ...Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.script = append(b.script, rs...)
}

// SetFault answers every request with r (after the script) until
// SetFault(nil).
func (b *Bento) SetFault(r *Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fault = r
}

// RejectWhen makes the fake reject matching events as invalid; nil clears.
// The Events API answers as Bento documents: 200 with "failed" and the
// rejected indexes (at most 20 listed), or 422 with that body when every
// event was rejected. The webhook, which has no published contract for
// this, fails the whole request with 400.
func (b *Bento) RejectWhen(f func(ReceivedEvent) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reject = f
}

// SetLimits answers 413 to requests with more events or body bytes than
// given; 0 means no limit.
func (b *Bento) SetLimits(maxEvents, maxBytes int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.maxEvents, b.maxBytes = maxEvents, maxBytes
}

// Received returns the accepted events in acceptance order.
func (b *Bento) Received() []ReceivedEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ReceivedEvent(nil), b.received...)
}

// Commands returns the accepted commands in acceptance order.
func (b *Bento) Commands() []Command {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Command(nil), b.commands...)
}

// Requests returns every request seen.
func (b *Bento) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.requests...)
}

// Reset forgets received events, requests, script and faults.
func (b *Bento) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.received, b.commands, b.requests, b.script, b.fault, b.reject = nil, nil, nil, nil, nil, nil
	b.profiles = newProfiles()
	b.maxEvents, b.maxBytes = 0, 0
}

// Forget forgets received events, commands and requests, keeping
// everything that says how to answer (script, fault, rejections, limits)
// and the subscribers: a long benchmark run calls it after each request so
// that a million events do not pile up in memory.
func (b *Bento) Forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.received, b.commands, b.requests = nil, nil, nil
}

// Interrupt releases handlers that hang or delay (server shutdown).
func (b *Bento) Interrupt() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.abort)
	b.abort = make(chan struct{})
}

// ServeHTTP answers one request: a scripted fault, or normal processing.
func (b *Bento) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	resp, idx, abort := b.begin(r, body)
	if !held(r.Context(), abort, resp.Release) || !wait(r.Context(), abort, resp.Delay, resp.Hang) {
		// Returning normally would send an empty 200: drop the connection.
		panic(http.ErrAbortHandler)
	}
	switch {
	case resp.CloseConn:
		closeConn(w)
	case resp.Status != 0:
		if resp.RetryAfter != "" {
			w.Header().Set("Retry-After", resp.RetryAfter)
		}
		if resp.Location != "" {
			w.Header().Set("Location", resp.Location)
		}
		b.answer(w, idx, resp.Status, resp.Body)
	default:
		status, answer := b.process(r, body, idx)
		b.answer(w, idx, status, answer)
	}
}

// begin records the request and picks its scripted answer.
func (b *Bento) begin(r *http.Request, body []byte) (Response, int, chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Time: time.Now()})
	var resp Response
	switch {
	case len(b.script) > 0:
		resp, b.script = b.script[0], b.script[1:]
	case b.fault != nil:
		resp = *b.fault
	}
	return resp, len(b.requests) - 1, b.abort
}

// answer writes status and body and notes the status on the request.
func (b *Bento) answer(w http.ResponseWriter, idx, status int, body string) {
	b.mu.Lock()
	b.requests[idx].Status = status
	b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// wait applies a delay or hang; false means the handler must give up.
func wait(ctx context.Context, abort chan struct{}, delay time.Duration, hang bool) bool {
	if hang {
		select {
		case <-ctx.Done():
		case <-abort:
		}
		return false
	}
	if delay <= 0 {
		return true
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-abort:
		return false
	case <-t.C:
		return true
	}
}

// held waits until release is closed (nil: at once); false means the
// handler must give up.
func held(ctx context.Context, abort chan struct{}, release <-chan struct{}) bool {
	if release == nil {
		return true
	}
	select {
	case <-ctx.Done():
		return false
	case <-abort:
		return false
	case <-release:
		return true
	}
}

// closeConn drops the connection without writing a response.
func closeConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// decodeJSON decodes with numbers kept exact.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// jsonError is an error body like Bento's.
func jsonError(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": strings.TrimSpace(msg)})
	return string(b)
}
