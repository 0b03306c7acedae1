package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// coalesceLoad is a backlog of repeated customer updates: updates
// single-row transactions, each setting first_name of one of customers
// customers picked at random (a fixed seed), all written while the syncer
// is stopped, then drained.
type coalesceLoad struct {
	customers, updates int
	rpm                float64 // the syncer's requests_per_minute (0: unlimited)
}

// coalesceLoadResult is what one drain of the backlog cost.
type coalesceLoadResult struct {
	requests, events int
	coalesced        float64
	wall, cpu        time.Duration // cpu: this process (syncer and stand-in), not Postgres
}

// Issue 14, item 6, "if it pays": the same backlog drained with and
// without bento.coalesce_fields. Both leave every customer's last
// first_name at Bento equal to the database's, and every update is either
// sent or counted as merged. How many events and requests merging saved is
// logged (docs/benchmarks.md records it);
// CDC_COALESCE_UPDATES sizes the backlog (default 10,000 updates over 100
// customers).
func TestCoalesceFieldsOnRepeatedUpdates(t *testing.T) {
	updates := 10000
	if n, err := strconv.Atoi(os.Getenv("CDC_COALESCE_UPDATES")); err == nil && n > 0 {
		updates = n
	}
	// Unpaced, reading the backlog is what limits a batch; paced (600 a
	// minute), a batch fills while its token comes, as behind Bento's cap.
	for _, rpm := range []float64{0, 600} {
		load := coalesceLoad{customers: 100, updates: updates, rpm: rpm}
		var off, on coalesceLoadResult
		// Subtests: each world (and its slot) is gone before the next begins.
		require.True(t, t.Run(fmt.Sprintf("rpm=%g/off", rpm), func(t *testing.T) { off = load.drain(t, false) }))
		require.True(t, t.Run(fmt.Sprintf("rpm=%g/on", rpm), func(t *testing.T) { on = load.drain(t, true) }))
		for _, r := range []struct {
			name string
			res  coalesceLoadResult
		}{{"off", off}, {"on", on}} {
			t.Logf("requests_per_minute %g, coalesce_fields %-3s: %d updates over %d customers -> %d events in %d requests, %.0f coalesced; drain %.2fs wall, %.2fs CPU (syncer + stand-in)",
				rpm, r.name, load.updates, load.customers, r.res.events, r.res.requests, r.res.coalesced, r.res.wall.Seconds(), r.res.cpu.Seconds())
		}
		require.Equal(t, load.updates+1, off.events, "off: every update and the sentinel")
		require.Zero(t, off.coalesced)
		require.Equal(t, float64(load.updates+1), float64(on.events)+on.coalesced, "on: every update is sent or counted as merged")
		// How much is merged depends on how full each batch is, which the
		// machine's load decides (the reader against the pacer): measured
		// and logged, not asserted. TestCoalescedFieldUpdatesOfOneTransaction
		// proves the merge itself.
	}
}

// drain writes the backlog to a fresh world, drains it with coalescing on
// or off, checks Bento's final first_name of every customer, and measures.
func (l coalesceLoad) drain(t *testing.T, coalesce bool) coalesceLoadResult {
	t.Helper()
	e := newEnv(t, "")
	e.Cfg.Bento.CoalesceFields, e.Cfg.Bento.RequestsPerMinute = coalesce, l.rpm
	e.DB.Exec(t, `INSERT INTO customers (email, first_name) SELECT 'c' || i || '@example.com', 'c' || i FROM generate_series(1, $1) i`, l.customers)
	require.NoError(t, e.Start(t)(), "the first start creates the slot")
	// The customer is picked before the UPDATE: random() in its WHERE
	// would be drawn per row, updating any number of rows.
	e.DB.Exec(t, `DO $$ DECLARE c bigint; BEGIN
		PERFORM setseed(0.14);
		FOR i IN 1..`+strconv.Itoa(l.updates)+` LOOP
			c := 1 + floor(random() * `+strconv.Itoa(l.customers)+`)::bigint;
			UPDATE customers SET first_name = 'n' || i WHERE id = c;
			COMMIT;
		END LOOP;
	END $$`)
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('sentinel@example.com', true)`)

	// The stand-in signals the sentinel: polling its received events would
	// copy them all every time, costing more CPU than what is measured.
	drained := make(chan struct{})
	signal := sync.OnceFunc(func() { close(drained) })
	e.Fake.RejectWhen(func(ev bentotest.ReceivedEvent) bool {
		if ev.Email == "sentinel@example.com" {
			signal()
		}
		return false
	})
	reg := prometheus.NewRegistry()
	cpu0, wall0 := processCPU(), time.Now()
	_, stop := e.StartWith(t, pipeline.Options{Registry: reg})
	select {
	case <-drained:
	case <-time.After(5 * time.Minute):
		t.Fatal("the backlog never drained")
	}
	res := coalesceLoadResult{wall: time.Since(wall0), cpu: processCPU() - cpu0}
	require.Eventually(t, func() bool {
		evs := e.Fake.Received()
		return evs[len(evs)-1].Email == "sentinel@example.com"
	}, 30*time.Second, 10*time.Millisecond, "the stand-in records the sentinel it saw")
	require.NoError(t, stop())
	res.requests, res.events = len(e.Fake.Requests()), len(e.Fake.Received())
	res.coalesced = metricSum(t, reg, "cdc_bento_events_coalesced_total")

	last := map[string]any{}
	for _, ev := range e.Fake.Received() {
		if v, ok := ev.Fields["first_name"]; ok {
			last[ev.Email] = v
		}
	}
	rows, err := e.DB.Pool.Query(context.Background(), `SELECT email, first_name FROM customers WHERE first_name LIKE 'n%'`)
	require.NoError(t, err)
	want := map[string]any{}
	for rows.Next() {
		var email, name string
		require.NoError(t, rows.Scan(&email, &name))
		want[email] = name
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, last, "Bento's last first_name of every customer is the database's")
	return res
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
