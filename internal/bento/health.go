package bento

import (
	"fmt"
	"log/slog"
	"sync"
)

// health is the halt state: Bento refused the credentials or site (401, 403,
// 404), or a dead letter cannot be stored. It logs the error once per halt,
// not per probe.
type health struct {
	mu     sync.Mutex
	halted bool
	reason string
	store  string // why the last dead letter could not be stored; "" when it could
	log    *slog.Logger
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
	h.reason = fmt.Sprintf("Bento rejected the credentials/site (%d): check bento.site_uuid and keys", res.status)
	if res.status == 0 || res.status/100 != 4 {
		h.reason = fmt.Sprintf("Bento answered %s: check bento.base_url", res.reason())
	}
	h.log.Error(h.reason + "; delivery halted, everything stays queued")
}

func (h *health) recover() {
	h.mu.Lock()
	defer h.mu.Unlock()
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
