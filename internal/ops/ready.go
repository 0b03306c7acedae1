package ops

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Readiness is what the running syncer's /readyz answers: whether it
// streams and, when not, why (a halt, a checkpoint save that keeps failing).
type Readiness struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason"` // the answer's text; "no answer: ..." when no syncer answered
	// OldestUnackedSeconds is the syncer's cdc_replication_oldest_unacked_seconds
	// (the OldestUnackedHeader of its answer; 0 without one).
	OldestUnackedSeconds float64 `json:"oldest_unacked_seconds"`
	// DeliveryRetrying is, while Bento answers 429/5xx or cannot be reached
	// (the syncer stays ready and retries), since when and the last error
	// (the DeliveryRetryingHeader of its answer); empty otherwise.
	DeliveryRetrying string `json:"delivery_retrying,omitempty"`
}

// DeliveryRetryingHeader is the header of /readyz's answer that says
// delivery keeps retrying (RetryingSince's text).
const DeliveryRetryingHeader = "Cdc-Delivery-Retrying"

// RetryingSince is the DeliveryRetryingHeader's text: since when, and the
// last error on one line (a header value cannot hold a line break).
func RetryingSince(since time.Time, lastError string) string {
	return "since " + since.UTC().Format(time.RFC3339) + ", last error: " + strings.Join(strings.Fields(lastError), " ")
}

// OldestUnackedHeader is the header of /readyz's answer that carries the
// age of the oldest change the syncer waits to have acknowledged.
const OldestUnackedHeader = "Cdc-Oldest-Unacked-Seconds"

// readyTimeout bounds asking the syncer.
const readyTimeout = 2 * time.Second

// ReadReady asks the syncer serving at addr (http.addr; an unspecified
// host means this machine) for /readyz.
func ReadReady(ctx context.Context, addr string) Readiness {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Readiness{Reason: fmt.Sprintf("no answer: http.addr %q: %v", addr, err)}
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return Readiness{Reason: "no answer: " + err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Readiness{Reason: "no answer: " + err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	oldest, _ := strconv.ParseFloat(resp.Header.Get(OldestUnackedHeader), 64) // a syncer without the header: 0
	return Readiness{Ready: resp.StatusCode == http.StatusOK, Reason: strings.TrimSpace(string(body)), OldestUnackedSeconds: oldest,
		DeliveryRetrying: resp.Header.Get(DeliveryRetryingHeader)}
}
