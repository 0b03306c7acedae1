package bento

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// health is the halt state: Bento refused the credentials or site (401,
// 403, 404), answered with a redirect, or called the request itself wrong
// (another 4xx); or a dead letter cannot be stored. It logs the error once
// per halt, not per probe.
type health struct {
	mu     sync.Mutex
	halted bool
	reason string
	store  string // why the last dead letter could not be stored; "" when it could
	log    *slog.Logger
	now    func() time.Time
	// haltSince is when the halt (or the failing dead-letter store) began;
	// retrySince when the current run of retryable failures began (zero:
	// none), retryReason the last of them.
	haltSince   time.Time
	retrySince  time.Time
	retryReason string
}

// storeFailed halts delivery visibly: a dead letter that cannot be stored
// holds every item behind it (issue 10.7).
func (h *health) storeFailed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.store != "" {
		return
	}
	h.store = "cannot store a dead letter: " + err.Error()
	h.haltSince = h.now()
	h.log.Error(h.store + "; delivery halted until it can, everything stays queued")
}

func (h *health) storeRecovered() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.store == "" {
		return
	}
	h.store = ""
	h.log.Info("dead letters can be stored again; delivery resumed")
}

func (h *health) halt(res result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.halted {
		return
	}
	h.halted = true
	h.reason = haltReason(res)
	h.haltSince = h.now()
	h.log.Error(h.reason + "; delivery halted, everything stays queued")
}

func (h *health) recover() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.retrySince, h.retryReason = time.Time{}, ""
	if !h.halted {
		return
	}
	h.halted, h.reason = false, ""
	h.log.Info("Bento accepts requests again; delivery resumed")
}

func (h *health) get() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.store != "" {
		return false, h.store
	}
	return !h.halted, h.reason
}

// haltReason says what a halting answer means and what to check.
func haltReason(res result) string {
	switch {
	case res.status == 401, res.status == 403, res.status == 404:
		return fmt.Sprintf("Bento rejected the credentials/site (%d): check bento.site_uuid and keys", res.status)
	case res.status/100 == 3:
		return fmt.Sprintf("Bento answered HTTP %d redirecting to %q; redirects are never followed: check bento.base_url",
			res.status, res.location)
	case res.status/100 == 4:
		return fmt.Sprintf("Bento answered HTTP %d: the request or the config is wrong, not an event: check bento.base_url, transport and headers", res.status)
	default:
		return fmt.Sprintf("Bento answered %s: check bento.base_url", res.reason())
	}
}
