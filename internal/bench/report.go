package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// printReport prints the tables with each target and PASS or MISS.
func printReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\nPostgres %s\n", rep.Server)
	if len(rep.Drains) > 0 {
		printDrains(w, rep.Drains)
	}
	if len(rep.Steady) > 0 {
		printSteady(w, rep.Steady)
	}
	for _, r := range rep.Paced {
		printPaced(w, r)
	}
}

func printDrains(w io.Writer, rs []DrainResult) {
	fmt.Fprintln(w, "\nDrain (no pacing): cdc from process start to the last event at the stand-in")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tround\tchanges\ttx rows\tcdc events\tcdc time\tcdc events/s\tstartup\tpg_recvlogical time\tchanges/s\tratio (>= 0.5)\tcdc peak RSS (< 64 MiB; wide-rows < 256 MiB)\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", r.Mode, r.Round, r.Changes, r.TxSize, r.Events,
			r.Syncer.Round(time.Millisecond), r.EventsPerSec(), r.Startup.Round(time.Millisecond),
			orNA(r.Recv > 0, r.Recv.Round(time.Millisecond).String()), orNA(r.Recv > 0, fmt.Sprintf("%.0f", r.RecvPerSec())),
			orNA(r.Recv > 0, verdict(fmt.Sprintf("%.2fx", r.Ratio()), r.Ratio() >= targetRatio)),
			verdict(mib(r.PeakRSS), r.PeakRSS < rssTarget(r.Mode)))
	}
	for _, m := range summarize(rs) {
		fmt.Fprintf(tw, "%s\tmedian\t\t\t\t\t%.0f\t\t\t%s\t%s\tmax %s\t\n", m.mode, m.events,
			orNA(m.recv > 0, fmt.Sprintf("%.0f", m.recv)), orNA(m.recv > 0, verdict(fmt.Sprintf("%.2fx", m.ratio), m.ratio >= targetRatio)),
			verdict(mib(m.rss), m.rss < rssTarget(m.mode)))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nCPU time (user+system) while draining; the walsender is the server process decoding each slot")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tround\tcdc\tstand-in Bento\twalsender for cdc\tpg_recvlogical\twalsender for pg_recvlogical\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Mode, r.Round, secs(r.SyncerCPU), secs(r.StandInCPU), secs(r.SyncerServerCPU),
			orNA(r.Recv > 0, secs(r.RecvCPU)), orNA(r.Recv > 0, secs(r.RecvServerCPU)))
	}
	_ = tw.Flush()
}

// summary is the median rates and ratio, and the largest RSS, of one
// mode's rounds.
type summary struct {
	mode                string
	events, recv, ratio float64
	rss                 int64
}

// summarize returns a summary per mode that ran more than one round. The
// ratio is the median of each round's ratio: rounds pair the consumers
// close in time.
func summarize(rs []DrainResult) []summary {
	var out []summary
	for _, mode := range []string{"backlog", "large-tx", "wide-rows"} {
		var events, recv, ratio []float64
		var rss int64
		for _, r := range rs {
			if r.Mode == mode {
				events, recv, ratio = append(events, r.EventsPerSec()), append(recv, r.RecvPerSec()), append(ratio, r.Ratio())
				rss = max(rss, r.PeakRSS)
			}
		}
		if len(events) > 1 {
			out = append(out, summary{mode: mode, events: median(events), recv: median(recv), ratio: median(ratio), rss: rss})
		}
	}
	return out
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func secs(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func printSteady(w io.Writer, rs []SteadyResult) {
	fmt.Fprintln(w, "\nSteady load: commit-to-delivery latency (the writer's COMMIT returned -> the stand-in read the request);\n"+
		"pg_recvlogical (test_decoding) reads a slot of its own at the same time: the server's and the machine's share")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tx/s asked\ttx/s achieved\tcommitted\tdelivered\tduplicates\tp50\tp99 (< 5 ms at <= 500 tx/s)\tmax\t"+
		"cdc peak RSS (< 64 MiB)\tcdc CPU\tpg_recvlogical p50 / p99 / max\tcdc minus pg_recvlogical p50 / p99\t")
	for _, r := range rs {
		p99 := ms(r.P99)
		if r.Rate <= targetP99Rates {
			p99 = verdict(p99, r.P99 < targetP99)
		}
		probe := orNA(r.Probe, ms(r.ProbeP50)+" / "+ms(r.ProbeP99)+" / "+ms(r.ProbeMax))
		share := orNA(r.Probe, ms(r.ShareP50)+" / "+ms(r.ShareP99))
		fmt.Fprintf(tw, "%d\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Rate, r.Achieved, r.Committed, r.Delivered, r.Duplicates,
			ms(r.P50), p99, ms(r.Max), verdict(mib(r.PeakRSS), r.PeakRSS < targetRSS), secs(r.SyncerCPU), probe, share)
	}
	_ = tw.Flush()
}

func verdict(s string, pass bool) string {
	if pass {
		return s + " PASS"
	}
	return s + " MISS"
}

func orNA(ok bool, s string) string {
	if !ok {
		return "n/a"
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
