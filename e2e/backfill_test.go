package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBackfillCommandHandsOffToTheSyncer: `cdc backfill` without a running
// syncer queues its request (and says so; cdc status lists it); `cdc run`
// then runs it. With a syncer running the command follows the request to
// its end and prints what it did; a finished table is not sent again.
func TestBackfillCommandHandsOffToTheSyncer(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) SELECT 'b' || g || '@example.com', true FROM generate_series(1, 30) g`)
	e.db.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) SELECT g, 'paid', 1.50, now() FROM generate_series(1, 12) g`)

	queued := e.cli("backfill", "--table", "customers")
	require.Zero(t, queued.Code, queued.String())
	require.Contains(t, queued.Stdout, "queued; no syncer is running", queued.String())
	status := e.cli("status", "--json")
	require.Zero(t, status.Code, status.String())
	var st struct {
		Requests []struct {
			Table string `json:"table"`
			State string `json:"state"`
		} `json:"backfill_requests"`
	}
	require.NoError(t, json.Unmarshal([]byte(status.Stdout), &st), status.Stdout)
	require.Len(t, st.Requests, 1)
	require.Equal(t, "public.customers", st.Requests[0].Table)
	require.Equal(t, "queued", st.Requests[0].State)

	s := e.startSyncer()
	followed := e.cli("backfill", "--table", "orders")
	require.Zero(t, followed.Code, followed.String())
	require.Contains(t, followed.Stdout, "public.orders: done, 12 rows, 12 events", followed.String())
	require.Eventually(t, func() bool { return len(e.fake.PurchaseTotals()) == 12 && subscribes(e) == 30 },
		60*time.Second, 20*time.Millisecond, "the queued and the followed backfill both delivered")
	again := e.cli("backfill", "--table", "orders")
	require.Zero(t, again.Code, again.String())
	require.Contains(t, again.Stdout, "already backfilled", again.String())
	require.NotContains(t, again.Stderr, "INFO", "the command's stderr has no log lines meant for the syncer")
	require.NotContains(t, again.Stderr, "eta", "no progress for a table already done")

	// A --where backfill on the finished table is a targeted re-send: it
	// runs, and the table's progress still says 12 rows, done.
	where := e.cli("backfill", "--table", "orders", "--where", "id = 3")
	require.Zero(t, where.Code, where.String())
	require.Contains(t, where.Stdout, "public.orders: done, 1 rows, 1 events", where.String())
	require.NotContains(t, where.Stderr, "INFO", where.String())
	status = e.cli("status", "--json")
	require.Zero(t, status.Code, status.String())
	var progress struct {
		Backfills []struct {
			Table    string `json:"table"`
			RowsDone int64  `json:"rows_done"`
			Done     bool   `json:"done"`
		} `json:"backfills"`
	}
	require.NoError(t, json.Unmarshal([]byte(status.Stdout), &progress), status.Stdout)
	for _, b := range progress.Backfills {
		if b.Table == "public.orders" {
			require.True(t, b.Done)
			require.EqualValues(t, 12, b.RowsDone, "the --where backfill left the table's progress alone")
		}
	}
	code, _ := s.terminate(30 * time.Second)
	require.Zero(t, code)
}

func subscribes(e *env) int {
	n := 0
	for _, ev := range e.fake.Received() {
		if ev.Type == "$subscribe" && strings.HasPrefix(ev.Email, "b") {
			n++
		}
	}
	return n
}
