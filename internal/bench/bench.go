package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/pgbento/cdc/internal/pglocal"
)

// stopGrace bounds the syncer's SIGTERM drain (its config says 10s).
const stopGrace = 30 * time.Second

// Run runs the modes o asks for, printing progress and the results table to
// o.Out, and returns what it measured. Missing a target is not an error;
// failing to run (no server, a consumer that dies or times out) is.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	if o.Bindir == "" {
		dir, err := pglocal.FindBindir()
		if err != nil && o.DSN == "" {
			return nil, err
		}
		o.Bindir = dir
	}
	db, err := openDatabase(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer db.close()
	dir, err := os.MkdirTemp("", "cdc-bench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	r := &runner{o: o, db: db, dir: dir, recv: recvlogical(o.Bindir)}
	if r.recv == "" {
		fmt.Fprintf(o.Out, "pg_recvlogical not found in %q: the syncer runs alone\n", o.Bindir)
	}
	rep := &Report{Server: db.version}
	if err := r.all(ctx, rep); err != nil {
		return rep, err
	}
	printReport(o.Out, rep)
	return rep, nil
}

// runner holds what the modes share.
type runner struct {
	o    Options
	db   *database
	dir  string
	recv string // pg_recvlogical, "" when absent
}

func (r *runner) all(ctx context.Context, rep *Report) error {
	if r.o.Backlog > 0 {
		res, err := r.drain(ctx, "backlog", r.o.Backlog, r.o.TxSize)
		rep.Drains = append(rep.Drains, res...)
		if err != nil {
			return err
		}
	}
	if r.o.LargeTx > 0 {
		res, err := r.drain(ctx, "large-tx", r.o.LargeTx, r.o.LargeTx)
		rep.Drains = append(rep.Drains, res...)
		if err != nil {
			return err
		}
	}
	if r.o.WideRows > 0 {
		res, err := r.drain(ctx, "wide-rows", r.o.WideRows, 1)
		rep.Drains = append(rep.Drains, res...)
		if err != nil {
			return err
		}
	}
	if r.o.Paced > 0 {
		res, err := r.paced(ctx)
		if err != nil {
			return err
		}
		rep.Paced = append(rep.Paced, res)
	}
	if r.o.Outage > 0 {
		res, err := r.outage(ctx)
		if err != nil {
			return err
		}
		rep.Paced = append(rep.Paced, res)
	}
	for _, rate := range r.o.Steady {
		res, err := r.steady(ctx, rate)
		if err != nil {
			return err
		}
		rep.Steady = append(rep.Steady, res)
	}
	return nil
}

// drain writes n orders in transactions of txSize while nothing reads,
// then, Repeat times, times pg_recvlogical and the syncer draining them,
// each round from slots of its own created before the backlog. Rounds
// alternate the two consumers so that a noisy neighbour on a shared
// machine hits both alike.
func (r *runner) drain(ctx context.Context, mode string, n, txSize int) ([]DrainResult, error) {
	var slots []string
	for i := range r.o.Repeat {
		slots = append(slots, cdcSlot(i), recvSlot(i))
	}
	if err := r.db.prepare(ctx, r.o.Customers, slots...); err != nil {
		return nil, err
	}
	fmt.Fprintf(r.o.Out, "%s: writing %d paid orders in transactions of %d rows (load average %s) ...\n", mode, n, txSize, loadavg())
	note := 0
	if mode == "wide-rows" {
		note = WideRowBytes
	}
	if err := writeBacklog(ctx, r.db.pool, n, txSize, r.o.Customers, note); err != nil {
		return nil, err
	}
	endpos, err := r.db.endOfBacklog(ctx)
	if err != nil {
		return nil, err
	}
	var out []DrainResult
	for i := range r.o.Repeat {
		res := DrainResult{Mode: mode, Round: i + 1, Changes: n, TxSize: txSize}
		if err := r.drainRecv(ctx, &res, endpos); err != nil {
			return out, err
		}
		if err := r.drainSyncer(ctx, &res); err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// drainRecv times pg_recvlogical draining round res.Round's slot to endpos.
func (r *runner) drainRecv(ctx context.Context, res *DrainResult, endpos string) error {
	if r.recv == "" {
		return nil
	}
	slot := recvSlot(res.Round - 1)
	fmt.Fprintf(r.o.Out, "%s round %d: pg_recvlogical draining to %s (load average %s) ...\n", res.Mode, res.Round, endpos, loadavg())
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	server := sampleWalsender(ctx, r.db, slot)
	var err error
	res.Recv, res.RecvCPU, err = runRecvlogical(ctx, r.recv, r.db.dsn, slot, endpos)
	res.RecvServerCPU = server.total()
	return err
}

// drainSyncer times the syncer draining round res.Round's slot.
func (r *runner) drainSyncer(ctx context.Context, res *DrainResult) error {
	slot := cdcSlot(res.Round - 1)
	fmt.Fprintf(r.o.Out, "%s round %d: the syncer draining %d events (load average %s) ...\n", res.Mode, res.Round, res.Changes, loadavg())
	cpuBefore := selfCPU()
	err := r.withSyncer(ctx, slot, false, func(p *syncerProc, s *sink) error {
		tctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		defer cancel()
		server := sampleWalsender(ctx, r.db, slot)
		err := s.waitFor(tctx, res.Changes, p.Done())
		res.SyncerServerCPU = server.total()
		if err != nil {
			return err
		}
		st := s.stats()
		res.Events, res.Requests = st.count, st.requests
		res.Syncer, res.Startup = st.last.Sub(p.started), st.first.Sub(p.started)
		return nil
	}, &res.PeakRSS, &res.SyncerCPU)
	res.StandInCPU = selfCPU() - cpuBefore
	return err
}

// steady runs the syncer live while a paced writer commits rate
// single-order transactions per second.
func (r *runner) steady(ctx context.Context, rate int) (SteadyResult, error) {
	res := SteadyResult{Rate: rate}
	if err := r.db.prepare(ctx, r.o.Customers, cdcSlot(0)); err != nil {
		return res, err
	}
	var pr *probe
	if r.recv != "" && r.db.createProbeSlot(ctx) {
		var err error
		if pr, err = startProbe(r.recv, r.db.dsn); err != nil {
			return res, err
		}
		defer pr.stop()
	}
	fmt.Fprintf(r.o.Out, "steady %d tx/s: running for %s (load average %s) ...\n", rate, r.o.Duration, loadavg())
	err := r.withSyncer(ctx, cdcSlot(0), true, func(p *syncerProc, s *sink) error {
		if err := r.db.waitActive(ctx, cdcSlot(0), p.Done()); err != nil {
			return err
		}
		if pr != nil {
			if err := r.db.waitActive(ctx, probeSlot, pr.done); err != nil {
				return err
			}
		}
		w := steadyWriter{pool: r.db.pool, rate: rate, duration: r.o.Duration, writers: r.o.Writers, customers: r.o.Customers}
		commits, took, err := w.run(ctx)
		if err != nil {
			return err
		}
		tctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		defer cancel()
		if err := s.waitFor(tctx, len(commits), p.Done()); err != nil {
			return err
		}
		res.Committed, res.Achieved = len(commits), perSec(len(commits), took)
		res.P50, res.P99, res.Max, res.Delivered = latencies(commits, s.receivedAt)
		res.Duplicates = s.stats().dups
		if pr != nil {
			if err := pr.waitFor(tctx, len(commits)); err != nil {
				return err
			}
			res.Probe = true
			res.ProbeP50, res.ProbeP99, res.ProbeMax, _ = latencies(commits, pr.receivedAt)
			res.ShareP50, res.ShareP99 = shares(commits, s.receivedAt, pr.receivedAt)
		}
		return nil
	}, &res.PeakRSS, &res.SyncerCPU)
	return res, err
}

// withSyncer starts a stand-in and the syncer, runs body, then stops the
// syncer with SIGTERM and stores its peak RSS and CPU time.
func (r *runner) withSyncer(ctx context.Context, slot string, keepTimes bool, body func(*syncerProc, *sink) error, peak *int64, cpu *time.Duration) error {
	return r.withSyncerConfig(ctx, syncerConfig{slot: slot, batchSize: r.o.BatchSize, queueSize: r.o.QueueSize, ledger: r.o.Ledger}, keepTimes, body, peak, cpu)
}

// withSyncerConfig is withSyncer for a config c (the stand-in's URL and
// the addresses are filled in).
func (r *runner) withSyncerConfig(ctx context.Context, c syncerConfig, keepTimes bool, body func(*syncerProc, *sink) error, peak *int64, cpu *time.Duration) error {
	s, err := startSink(keepTimes, r.o.SinkDelay)
	if err != nil {
		return err
	}
	defer s.close()
	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	c.dsn, c.bentoURL, c.httpAddr = r.db.dsn, s.url, httpAddr
	config, err := writeConfig(r.dir, c)
	if err != nil {
		return err
	}
	p, err := startSyncer(r.o.Syncer, config, r.dir)
	if err != nil {
		return err
	}
	bodyErr := body(p, s)
	rss, stopErr := p.stop(stopGrace)
	*peak, *cpu = rss, p.cpu()
	if bodyErr != nil {
		return fmt.Errorf("%w; last lines of the syncer's log:\n%s", bodyErr, p.tail())
	}
	return stopErr
}

// freeAddr is a free loopback address for the syncer's metrics server, so
// the benchmark never collides with a syncer already on the default port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
