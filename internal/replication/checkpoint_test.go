package replication

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/stream"
)

func TestCheckpointStoreRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	ctx := context.Background()
	p, err := h.store.Load(ctx)
	require.NoError(t, err)
	require.True(t, p.IsZero())
	for _, want := range []stream.Position{
		{CommitLSN: 0x16B374D848, Index: 3, Sub: 2},
		{CommitLSN: 0x16B374D848, EndLSN: 0x16B374D900, Index: 4},
	} {
		require.NoError(t, h.store.Save(ctx, want))
		got, err := h.store.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

// TestRestartReplaysExactlyTheUnacked stops the reader after acknowledging
// part of a transaction and checks that a new reader emits exactly the rest,
// then nothing once the commit marker is acknowledged.
func TestRestartReplaysExactlyTheUnacked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.r (id int PRIMARY KEY)`, "public.r")
	h.start()
	h.db.Exec(t, `INSERT INTO r SELECT generate_series(1, 5)`)
	first, commit := h.tx()
	require.Len(t, first, 5)

	// Change 0 and 1 fully done, change 2 has had one event delivered.
	h.ack(stream.Position{CommitLSN: commit.Pos.CommitLSN, Index: 1, Sub: 1})
	h.ack(stream.Position{CommitLSN: commit.Pos.CommitLSN, Index: 2, Sub: 1})
	h.stop()

	h.start()
	again, commit2 := h.tx()
	require.Equal(t, commit, commit2)
	require.Len(t, again, 3)
	for i, ch := range again {
		require.Equal(t, int64(3+i), ch.New["id"])
		require.Equal(t, 2+i, ch.Pos.Index)
	}
	require.Equal(t, 1, again[0].Pos.Sub, "the delivery side skips the event it already delivered")
	require.Equal(t, 0, again[1].Pos.Sub)

	h.ack(commit2.Pos)
	require.Eventually(t, func() bool { return h.confirmedFlush() >= commit.Pos.EndLSN }, 10*time.Second, 50*time.Millisecond)
	h.stop()

	h.start()
	h.db.Exec(t, `INSERT INTO r VALUES (6)`)
	next, _ := h.tx()
	require.Len(t, next, 1, "the acknowledged transaction is not replayed")
	require.Equal(t, int64(6), next[0].New["id"])
}

// TestCloseSavesWhatTheAckCouldNot acknowledges after delivery stopped (the
// ack function's context has ended, so it cannot save): the position is
// saved by Close, the one final save, and nowhere earlier.
func TestCloseSavesWhatTheAckCouldNot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.c (id int PRIMARY KEY)`, "public.c")
	h.start()
	h.db.Exec(t, `INSERT INTO c VALUES (1)`)
	_, commit := h.tx()
	stopped, stop := context.WithCancel(context.Background())
	stop()
	h.reader.AckFunc(stopped)(commit.Pos)
	saved, err := h.store.Load(context.Background())
	require.NoError(t, err)
	require.True(t, saved.Less(commit.Pos), "the ack saved although delivery had stopped")
	h.stop() // Run returns, then Close
	saved, err = h.store.Load(context.Background())
	require.NoError(t, err)
	require.Equal(t, commit.Pos, saved)
}

// TestIdleWALFollows writes only to an unpublished table: with nothing in
// flight, the slot must keep up with the WAL so it does not pin it.
func TestIdleWALFollows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.pub (id int); CREATE TABLE public.other (id int)`, "public.pub")
	h.start()
	for i := range 3 {
		h.db.Exec(t, fmt.Sprintf(`INSERT INTO other SELECT generate_series(1, %d)`, 1000*(i+1)))
		target := h.currentWAL()
		require.Eventually(t, func() bool { return h.confirmedFlush() >= target }, 15*time.Second, 50*time.Millisecond,
			"confirmed_flush_lsn should reach %s", target)
	}

	// With a change in flight (not acked) the slot must not move past it.
	h.db.Exec(t, `INSERT INTO pub VALUES (1)`)
	_, commit := h.tx()
	h.db.Exec(t, `INSERT INTO other VALUES (1)`)
	h.quiet()
	require.Less(t, h.confirmedFlush(), commit.Pos.EndLSN)
	h.ack(commit.Pos)
	target := h.currentWAL()
	require.Eventually(t, func() bool { return h.confirmedFlush() >= target }, 15*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return h.metric("cdc_checkpoint_lsn") >= float64(target) }, 5*time.Second, 50*time.Millisecond)
}

// TestReconnectAfterPostgresRestart restarts the server under a running
// reader: it reconnects, emits nothing twice and loses nothing.
func TestReconnectAfterPostgresRestart(t *testing.T) {
	h := newHarness(t, `CREATE TABLE public.k (id int PRIMARY KEY)`, "public.k")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // after h.stop: Run leaves nothing behind
	defer h.stop()
	h.start()
	h.db.Exec(t, `INSERT INTO k SELECT generate_series(1, 10)`)
	h.db.Exec(t, `INSERT INTO k SELECT generate_series(11, 20)`)
	var ids []int
	changes, commit := h.tx() // the second tx stays unacknowledged and is resent by the server
	for _, c := range changes {
		ids = append(ids, int(c.New["id"].(int64)))
	}
	h.ack(commit.Pos)

	pgtest.Restart(t)
	require.Eventually(t, func() bool { return h.db.Pool.Ping(context.Background()) == nil }, 30*time.Second, 100*time.Millisecond)
	h.db.Exec(t, `INSERT INTO k SELECT generate_series(21, 30)`)
	for len(ids) < 30 {
		changes, _ := h.tx()
		for _, c := range changes {
			ids = append(ids, int(c.New["id"].(int64)))
		}
	}
	h.quiet()
	sort.Ints(ids)
	want := make([]int, 30)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, ids)
	require.Eventually(t, func() bool { ok, _ := h.reader.Healthy(); return ok }, 10*time.Second, 50*time.Millisecond)
	require.GreaterOrEqual(t, h.metric("cdc_replication_reconnects_total"), 1.0)
}
