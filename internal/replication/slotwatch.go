package replication

import (
	"context"
	"errors"
	"math"
	"time"
)

// walStatusCode maps pg_replication_slots.wal_status to the value of
// cdc_replication_slot_wal_status: 0 reserved, 1 extended, 2 unreserved
// (WAL the slot needs is about to be removed), 3 lost (the slot is
// invalidated), -1 unknown (unreadable or no such slot).
var walStatusCode = map[string]float64{"reserved": 0, "extended": 1, "unreserved": 2, "lost": 3}

// slotWatchLoop refreshes the slot metrics from the catalog every
// cfg.StatusInterval, on a normal connection. The replication goroutine
// stops reading the stream while delivery is blocked, so what it saw last
// (keepalives) freezes exactly when the lag matters most (issue 10.9); the
// server's own numbers keep moving. When the loop ends (the reader stopped:
// a standby that lost the lead, a run that failed) the gauges say unknown
// rather than go on showing what was true then. On the same cadence it
// checks that the publication still carries the rules' tables
// (pubwatch.go).
func (r *Reader) slotWatchLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.StatusInterval)
	defer t.Stop()
	defer r.metrics.slotUnknown()
	defer r.pubProblem.Store("") // not watched any more: the reader says "stopped"
	var pub pubWatch
	for {
		r.refreshSlotMetrics(ctx)
		r.checkPublication(ctx, &pub)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshSlotMetrics sets the lag, retained WAL, wal_status, active and
// oldest-unacknowledged gauges. A failed read leaves the byte gauges as they
// were and sets wal_status to unknown; a missing slot is inactive, retains
// nothing and has no lag (NaN).
func (r *Reader) refreshSlotMetrics(ctx context.Context) {
	m := r.metrics
	m.oldestUnacked.Set(r.unacked.age(r.now()).Seconds())
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StatusInterval)
	defer cancel()
	h, err := readSlotHealth(ctx, r.store.pool, r.cfg.Slot)
	if err != nil {
		m.walStatus.Set(-1)
		if errors.Is(err, errSlotMissing) {
			m.active.Set(0)
			m.retained.Set(0)
			m.lag.Set(math.NaN()) // no slot, no confirmed position to be behind
		}
		return
	}
	// Retained before lag: a reader that sees this refresh's lag sees this
	// refresh's retained WAL (at least the lag) too.
	m.retained.Set(float64(h.CurrentWAL - min(h.RestartLSN, h.CurrentWAL)))
	m.lag.Set(float64(h.CurrentWAL - min(h.ConfirmedFlush, h.CurrentWAL)))
	if code, ok := walStatusCode[h.WALStatus]; ok {
		m.walStatus.Set(code)
	} else {
		m.walStatus.Set(-1)
	}
	// One Set: a scrape between two would see an active slot inactive.
	active := 0.0
	if h.Active {
		active = 1
	}
	m.active.Set(active)
}
