package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/pgbento/cdc/internal/bento/bentofake"
)

// outage is issue 14's item 5 as it happens: the syncer runs paced at RPM
// while the stand-in answers 503 for o.Outage and a writer commits
// o.OutageRate single-row transactions a second, so the backlog builds up
// behind a live, retrying syncer; then the stand-in answers again and the
// catch-up is timed from that moment. Unlike the paced mode it includes
// how long the syncer takes to notice that Bento is back.
func (r *runner) outage(ctx context.Context) (PacedResult, error) {
	res := PacedResult{RPM: r.o.RPM, Batch: PacedBatchSize, Outage: r.o.Outage, Rate: r.o.OutageRate}
	if err := r.db.prepare(ctx, r.o.Customers, cdcSlot(0)); err != nil {
		return res, err
	}
	c := syncerConfig{slot: cdcSlot(0), batchSize: res.Batch, queueSize: r.o.QueueSize, rpm: res.RPM, ledger: r.o.Ledger}
	err := r.withSyncerConfig(ctx, c, false, func(p *syncerProc, s *sink) error {
		s.fake.SetFault(&bentofake.Response{Status: http.StatusServiceUnavailable, Body: `{"error":"maintenance"}`})
		if err := r.db.waitActive(ctx, cdcSlot(0), p.Done()); err != nil {
			return err
		}
		fmt.Fprintf(r.o.Out, "outage: the stand-in answers 503 for %s while %d orders/s are committed (load average %s) ...\n",
			res.Outage, res.Rate, loadavg())
		w := steadyWriter{pool: r.db.pool, rate: res.Rate, duration: res.Outage, writers: r.o.Writers, customers: r.o.Customers}
		commits, _, err := w.run(ctx)
		if err != nil {
			return err
		}
		back := time.Now()
		s.fake.SetFault(nil)
		res.Backlog = len(commits)
		fmt.Fprintf(r.o.Out, "outage: the stand-in answers again; %d events to catch up at %d requests/min (load average %s) ...\n",
			res.Backlog, res.RPM, loadavg())
		return r.timeCatchUp(ctx, p, s, &res, back)
	}, &res.PeakRSS, &res.SyncerCPU)
	return res, err
}
