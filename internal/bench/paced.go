package bench

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// PacedResult is one paced catch-up (issue 14, items 4 and 5): a backlog of
// single-row transactions written while nothing reads, drained by the
// syncer under bento.requests_per_minute = RPM with batches of Batch.
type PacedResult struct {
	Backlog, RPM, Batch int
	Events              int   // events the stand-in accepted
	Sizes               []int // events per request, in arrival order
	// Outage is how long the stand-in answered 503 while Rate single-row
	// transactions a second built the backlog up (the outage mode); zero
	// in the paced mode, whose backlog is written before the syncer starts.
	Outage time.Duration
	Rate   int
	// Startup runs from the start (of the process; in the outage mode, of
	// Bento answering again) to the first accepted request; Drain from the
	// first request to the last; Total is both.
	Startup, Drain, Total time.Duration
	PeakRSS               int64
	SyncerCPU             time.Duration
}

// FullShare counts the requests sent while at least Batch events were
// pending (not yet at the stand-in) and, of those, the ones carrying Batch.
func (r PacedResult) FullShare() (full, eligible int) {
	pending := r.Backlog
	for _, n := range r.Sizes {
		if pending >= r.Batch {
			eligible++
			if n == r.Batch {
				full++
			}
		}
		pending -= n
	}
	return full, eligible
}

// Bound is the time Bento's cap allows for the backlog: backlog ÷ (rpm ×
// batch size) minutes.
func (r PacedResult) Bound() time.Duration {
	return time.Duration(float64(r.Backlog) / float64(r.RPM*r.Batch) * float64(time.Minute))
}

// histogram counts requests by size: exactly Batch, then ranges below.
func (r PacedResult) histogram() [][2]string {
	lows := []int{r.Batch, r.Batch * 9 / 10, r.Batch / 2, r.Batch / 10, 1}
	counts := make([]int, len(lows))
	for _, n := range r.Sizes {
		for i, lo := range lows {
			if n >= lo {
				counts[i]++
				break
			}
		}
	}
	out := [][2]string{{fmt.Sprintf("%d", r.Batch), fmt.Sprint(counts[0])}}
	for i := 1; i < len(lows); i++ {
		hi := lows[i-1] - 1
		out = append(out, [2]string{fmt.Sprintf("%d-%d", lows[i], hi), fmt.Sprint(counts[i])})
	}
	return out
}

// paced writes the backlog while the syncer's slot waits (the outage),
// then starts the syncer paced at RPM and times its catch-up.
func (r *runner) paced(ctx context.Context) (PacedResult, error) {
	res := PacedResult{Backlog: r.o.Paced, RPM: r.o.RPM, Batch: PacedBatchSize}
	if err := r.db.prepare(ctx, r.o.Customers, cdcSlot(0)); err != nil {
		return res, err
	}
	fmt.Fprintf(r.o.Out, "paced: writing %d paid orders in single-row transactions (load average %s) ...\n", res.Backlog, loadavg())
	if err := writeBacklog(ctx, r.db.pool, res.Backlog, 1, r.o.Customers, 0); err != nil {
		return res, err
	}
	fmt.Fprintf(r.o.Out, "paced: the syncer catching up at %d requests/min, batches of %d (load average %s) ...\n", res.RPM, res.Batch, loadavg())
	c := syncerConfig{slot: cdcSlot(0), batchSize: res.Batch, queueSize: r.o.QueueSize, rpm: res.RPM, ledger: r.o.Ledger}
	err := r.withSyncerConfig(ctx, c, false, func(p *syncerProc, s *sink) error {
		return r.timeCatchUp(ctx, p, s, &res, p.started)
	}, &res.PeakRSS, &res.SyncerCPU)
	return res, err
}

// timeCatchUp waits until res.Backlog events reached the stand-in and
// records the request sizes and the times, counted from start.
func (r *runner) timeCatchUp(ctx context.Context, p *syncerProc, s *sink, res *PacedResult, start time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	if err := s.waitFor(ctx, res.Backlog, p.Done()); err != nil {
		return err
	}
	st := s.stats()
	res.Events, res.Sizes = st.count, st.sizes
	res.Startup, res.Drain, res.Total = st.first.Sub(start), st.last.Sub(st.first), st.last.Sub(start)
	return nil
}

// Targets from issue 14.
const (
	targetFullShare = 0.95 // of requests sent while a batch's worth waited
	targetBound     = 0.10 // catch-up within this of the bound
)

func printPaced(w io.Writer, r PacedResult) {
	start := "process start"
	if r.Outage > 0 {
		start = "Bento back"
		fmt.Fprintf(w, "\nOutage: the stand-in answered 503 for %s while %d single-row transactions/s were committed; "+
			"%d events waited when it answered again; requests_per_minute %d, batch_size %d\n", r.Outage, r.Rate, r.Backlog, r.RPM, r.Batch)
	} else {
		fmt.Fprintf(w, "\nPaced catch-up: %d events in single-row transactions, requests_per_minute %d, batch_size %d\n", r.Backlog, r.RPM, r.Batch)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "events per request\trequests\t")
	for _, row := range r.histogram() {
		fmt.Fprintf(tw, "%s\t%s\t\n", row[0], row[1])
	}
	_ = tw.Flush()
	full, eligible := r.FullShare()
	share := 0.0
	if eligible > 0 {
		share = float64(full) / float64(eligible)
	}
	fmt.Fprintf(w, "requests: %d (sizes in order: %s)\n", len(r.Sizes), sizesText(r.Sizes))
	fmt.Fprintf(w, "full among those sent while >= %d events were pending: %d of %d = %s\n", r.Batch, full, eligible,
		verdict(fmt.Sprintf("%.1f%% (>= 95%%)", 100*share), share >= targetFullShare))
	bound := r.Bound()
	fmt.Fprintf(w, "catch-up: %s to first request %s, first to last request %s, %s to last event %s; "+
		"bound backlog / (rpm x batch) = %s: %s\n", start, secs(r.Startup), secs(r.Drain), start, secs(r.Total), secs(bound),
		verdict(fmt.Sprintf("%.3fx (within 10%%)", r.Total.Seconds()/bound.Seconds()), within(r.Total, bound, targetBound)))
	fmt.Fprintf(w, "peak RSS %s, CPU %s\n", mib(r.PeakRSS), secs(r.SyncerCPU))
}

func within(d, bound time.Duration, frac float64) bool {
	x := d.Seconds() / bound.Seconds()
	return x >= 1-frac && x <= 1+frac
}

// sizesText is the sizes run-length encoded: "1, 1000x29, 999".
func sizesText(sizes []int) string {
	out := ""
	for i := 0; i < len(sizes); {
		j := i
		for j < len(sizes) && sizes[j] == sizes[i] {
			j++
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprint(sizes[i])
		if j-i > 1 {
			out += fmt.Sprintf("x%d", j-i)
		}
		i = j
	}
	return out
}
