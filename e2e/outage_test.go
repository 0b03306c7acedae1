package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// TestBentoDownThirtySeconds: Bento answers 503 for 30 s while changes keep
// coming, more than the syncer's queues hold. Nothing is lost or sent twice,
// each subscriber's events arrive in commit order, the replication
// connection stays up throughout (the walsender here gives up after 5 s
// without standby status, so only keepalives sent while the stream is held
// keep it), and memory stays bounded.
func TestBentoDownThirtySeconds(t *testing.T) {
	const outage = 30 * time.Second
	e := newEnv(t, envOptions{BatchSize: 100, SourceExtra: "  queue_size: 100", BentoExtra: "  queue_size: 200"})
	e.db.Exec(t, fmt.Sprintf("ALTER DATABASE %s SET wal_sender_timeout = '5s'", e.db.Name))
	requireWalSenderTimeout(t, e.db.DSN, "5s")
	s := e.startSyncer()
	ctx := context.Background()
	w := newWriter(e.db.Pool, 3)
	require.NoError(t, w.Run(ctx, 500))
	e.waitDelivered(t, time.Minute)

	watch := e.watchSlot(s)
	e.fake.SetFault(&bentotest.Response{Status: 503})
	down := time.Now()
	require.NoError(t, w.Run(ctx, 6500)) // 6,000 changes while Bento is down
	// Keep Bento down for the whole outage: a schedule, not a wait.
	<-time.After(time.Until(down.Add(outage)))
	e.fake.SetFault(nil)
	up := time.Now()

	want := e.waitDelivered(t, 2*time.Minute)
	seen := watch.stop()
	require.Zero(t, want.check(t, e.fake), "duplicates after an outage")
	requireCommitOrderPerEmail(t, w.expected(), e.fake.Received())
	require.Greater(t, seen.samples, 100, "the slot was hardly observed")
	require.Zero(t, seen.inactive, "the slot was inactive in %d of %d samples", seen.inactive, seen.samples)
	require.Len(t, seen.pids, 1, "the walsender changed (the connection was dropped and remade): pids %v", seen.pids)
	require.Less(t, seen.maxRSS, int64(128<<20), "peak RSS %d MiB", seen.maxRSS>>20)
	require.NotContains(t, s.Logs(), "replication connection lost")
	refused := 0
	for _, r := range e.fake.Requests() {
		if r.Time.After(down) && r.Time.Before(up) {
			require.Equal(t, 503, r.Status, "a request during the outage was not refused")
			refused++
		}
	}
	require.Greater(t, refused, 10, "the syncer gave up retrying during the outage")
	t.Logf("%d changes, %d refused requests, peak RSS %d MiB, %d slot samples", w.changes, refused, seen.maxRSS>>20, seen.samples)
}

// requireWalSenderTimeout checks that a replication connection to dsn's
// database gets the given wal_sender_timeout, the premise of the keepalive
// assertions.
func requireWalSenderTimeout(t *testing.T, dsn, want string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, dsn+" replication=database")
	require.NoError(t, err)
	defer conn.Close(ctx)
	res, err := conn.Exec(ctx, "SHOW wal_sender_timeout").ReadAll()
	require.NoError(t, err)
	require.Equal(t, want, string(res[0].Rows[0][0]))
}

// slotWatch samples the slot and the process while a test runs.
type slotWatch struct {
	stopCh chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	seen   slotSeen
}

type slotSeen struct {
	samples, inactive int
	pids              map[int32]bool
	maxRSS            int64
	errs              []string
}

// watchSlot samples every 100 ms whether the slot is active, which
// walsender serves it, and the syncer's RSS.
func (e *env) watchSlot(s *syncer) *slotWatch {
	sw := &slotWatch{stopCh: make(chan struct{}), done: make(chan struct{}), seen: slotSeen{pids: map[int32]bool{}}}
	go func() {
		defer close(sw.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sw.stopCh:
				return
			case <-tick.C:
				sw.sample(e, s)
			}
		}
	}()
	return sw
}

func (sw *slotWatch) sample(e *env, s *syncer) {
	var active bool
	var pid *int32
	err := e.db.Pool.QueryRow(context.Background(), `SELECT active, active_pid FROM pg_replication_slots
		WHERE slot_name = 'cdc_bento' AND database = current_database()`).Scan(&active, &pid)
	rss, rssErr := s.MemoryBytes("VmRSS")
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if err != nil || rssErr != nil {
		sw.seen.errs = append(sw.seen.errs, fmt.Sprint(err, rssErr))
		return
	}
	sw.seen.samples++
	if !active {
		sw.seen.inactive++
	}
	if pid != nil {
		sw.seen.pids[*pid] = true
	}
	sw.seen.maxRSS = max(sw.seen.maxRSS, rss)
}

func (sw *slotWatch) stop() slotSeen {
	close(sw.stopCh)
	<-sw.done
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if len(sw.seen.errs) > 0 {
		sw.seen.inactive += len(sw.seen.errs) // an unreadable sample proves nothing
	}
	return sw.seen
}

// requireCommitOrderPerEmail asserts that each subscriber's events arrived
// exactly as the writer committed the changes behind them.
func requireCommitOrderPerEmail(t *testing.T, want map[string][]string, got []bentotest.ReceivedEvent) {
	t.Helper()
	per := map[string][]string{}
	for _, ev := range got {
		per[ev.Email] = append(per[ev.Email], label(ev))
	}
	for email, labels := range want {
		if len(labels) == 0 {
			delete(want, email)
		}
	}
	require.Equal(t, len(want), len(per), "subscribers with events")
	for email, labels := range want {
		require.Equal(t, strings.Join(labels, " "), strings.Join(per[email], " "), "events for %s out of commit order", email)
	}
}
