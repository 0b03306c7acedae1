package replication

import (
	"fmt"
	"time"
)

// DefaultSaveFailingAfter is how long checkpoint saves (with the ledger rows
// they carry) may keep failing before the reader reports unhealthy. A short
// outage of the database only holds delivery; a save that keeps failing for
// any reason (a revoked grant, a row the server refuses) makes /readyz
// answer 503 and `cdc status` show why, until a save works again.
const DefaultSaveFailingAfter = 30 * time.Second

// saveOutage is one run of failing saves, kept by the retry loop.
type saveOutage struct {
	since    time.Time // first failure; zero: saves work
	reported bool      // the reader was marked unhealthy for it
}

// saveFailed logs the first failure of an outage at WARN and, once saves
// have failed for saveFailingAfter, one ERROR; from then on the reader is
// unhealthy with the latest error as the reason.
func (r *Reader) saveFailed(o *saveOutage, err error) {
	now := r.now()
	if o.since.IsZero() {
		o.since = now
		r.log.Warn("saving the checkpoint failed; delivery waits and retries", "error", err)
	}
	if now.Sub(o.since) < r.saveFailingAfter {
		return
	}
	r.saveProblem.Store(fmt.Sprintf("saving the checkpoint fails since %s: %v", o.since.UTC().Format(time.RFC3339), err))
	if !o.reported {
		o.reported = true
		r.log.Error("saving the checkpoint keeps failing; delivery is halted until it works", "since", o.since.UTC(), "error", err)
	}
}

// saveRecovered ends an outage: the reader is healthy again as far as
// saves go.
func (r *Reader) saveRecovered(o *saveOutage) {
	if o.since.IsZero() {
		return
	}
	r.saveProblem.Store("")
	r.log.Info("save checkpoint recovered", "failing_for", r.now().Sub(o.since).Round(time.Millisecond).String())
	*o = saveOutage{}
}
