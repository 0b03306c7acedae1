package bench

import (
	"math"
	"slices"
	"time"
)

// Targets from issue 5.
const (
	targetRatio    = 0.5       // syncer events/s over pg_recvlogical changes/s
	targetRSS      = 64 << 20  // peak RSS of the syncer, bytes
	targetWideRSS  = 256 << 20 // the same with 2 MB rows behind a slow Bento (issue 10.8)
	targetP99      = 5 * time.Millisecond
	targetP99Rates = 500 // the p99 target is stated for this rate and below
)

// DrainResult is one backlog drained by both consumers.
type DrainResult struct {
	Mode     string // "backlog" or "large-tx"
	Round    int    // 1..Repeat
	Changes  int    // order rows written (one change each)
	TxSize   int    // rows per transaction
	Events   int    // events the stand-in accepted
	Requests int    // requests that carried them
	// Syncer runs from starting the process to the last event accepted;
	// Startup to the first (migrations, checks, connecting).
	Syncer, Startup time.Duration
	// Recv is pg_recvlogical's run time; 0 when it was not available.
	Recv    time.Duration
	PeakRSS int64 // the syncer's, bytes
	// CPU time (user+system) of each party: the syncer over its whole
	// life, this process (the stand-in Bento) while the syncer ran,
	// pg_recvlogical, and the walsender serving each slot (0 when the
	// server is not on this machine).
	SyncerCPU, StandInCPU, SyncerServerCPU time.Duration
	RecvCPU, RecvServerCPU                 time.Duration
}

// rssTarget is the peak RSS a mode must stay under.
func rssTarget(mode string) int64 {
	if mode == "wide-rows" {
		return targetWideRSS
	}
	return targetRSS
}

// EventsPerSec is the syncer's rate, startup included.
func (r DrainResult) EventsPerSec() float64 { return perSec(r.Events, r.Syncer) }

// RecvPerSec is pg_recvlogical's changes per second (0 when not run).
func (r DrainResult) RecvPerSec() float64 { return perSec(r.Changes, r.Recv) }

// Ratio is the syncer's rate over pg_recvlogical's (0 when not run).
func (r DrainResult) Ratio() float64 {
	if r.RecvPerSec() == 0 {
		return 0
	}
	return r.EventsPerSec() / r.RecvPerSec()
}

// SteadyResult is one steady-load run.
type SteadyResult struct {
	Rate       int     // asked, transactions/s
	Achieved   float64 // the writer's actual commits/s
	Committed  int
	Delivered  int // distinct orders the stand-in received
	Duplicates int
	// Commit-to-delivery latency over the delivered orders.
	P50, P99, Max time.Duration
	PeakRSS       int64
	SyncerCPU     time.Duration
	// The same latency for pg_recvlogical (test_decoding) reading a third
	// slot at the same time: the server's and the machine's share. Probe
	// is false when it could not run.
	Probe                        bool
	ProbeP50, ProbeP99, ProbeMax time.Duration
	// The syncer's own share: per order, its latency minus the probe's.
	ShareP50, ShareP99 time.Duration
}

// Report is everything one Run measured.
type Report struct {
	Server string // Postgres version
	Drains []DrainResult
	Steady []SteadyResult
	Paced  []PacedResult
}

func perSec(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// latencies pairs each commit with its receipt and returns p50, p99, max
// and how many were received.
func latencies(commits []commit, at func(string) (time.Time, bool)) (p50, p99, maxL time.Duration, n int) {
	ls := make([]time.Duration, 0, len(commits))
	for _, c := range commits {
		if t, ok := at(c.key); ok {
			ls = append(ls, t.Sub(c.at))
		}
	}
	if len(ls) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(ls)
	return percentile(ls, 0.50), percentile(ls, 0.99), ls[len(ls)-1], len(ls)
}

// shares returns the p50 and p99, over orders both received, of the
// syncer's latency minus the probe's for the same order.
func shares(commits []commit, cdc, probe func(string) (time.Time, bool)) (p50, p99 time.Duration) {
	ds := make([]time.Duration, 0, len(commits))
	for _, c := range commits {
		a, ok1 := cdc(c.key)
		b, ok2 := probe(c.key)
		if ok1 && ok2 {
			ds = append(ds, a.Sub(b))
		}
	}
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return percentile(ds, 0.50), percentile(ds, 0.99)
}

// percentile is the nearest-rank percentile of sorted ls.
func percentile(ls []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p*float64(len(ls)))) - 1
	return ls[min(max(rank, 0), len(ls)-1)]
}
