package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// TestKill9MidStream: kill -9 at random moments while 20,000 changes flow,
// restart each time. Everything arrives; the only duplicates are events
// whose copies straddle a kill (requests in flight, or acknowledged but not
// yet checkpointed, when the process died), at most a batch or so per kill;
// purchases, deduplicated by their unique key as Bento does, add up to the
// database's totals exactly.
func TestKill9MidStream(t *testing.T) {
	const kills, changes = 4, 20000
	e := newEnv(t, envOptions{BatchSize: 100})
	s := e.startSyncer()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWriter(e.db.Pool, 1)
	written := make(chan error, 1)
	go func() { written <- w.Run(ctx, changes) }()

	rng := rand.New(rand.NewPCG(2, 2))
	var killedAt []time.Time
	for i := 0; i < kills; i++ {
		// A random moment: the schedule, not a wait for a condition.
		<-time.After(time.Duration(300+rng.IntN(2500)) * time.Millisecond)
		s.kill()
		// After the process is gone: a request it sent arrived before this.
		killedAt = append(killedAt, time.Now())
		s = e.startSyncer()
	}
	require.NoError(t, <-written)
	require.GreaterOrEqual(t, w.changes, changes)

	want := e.waitDelivered(t, 3*time.Minute)
	dups := want.check(t, e.fake)
	requireDuplicatesStraddleKills(t, e.fake, killedAt)
	t.Logf("%d changes, %d events received, %d duplicates after %d kills", w.changes, len(e.fake.Received()), dups, kills)
	require.LessOrEqual(t, dups, kills*e.opts.BatchSize, "more duplicates than the batches in flight at %d kills; per kill: %s",
		kills, duplicatesPerKill(e.fake, killedAt))
	require.False(t, s.exited(), "the last syncer died")
}

// requireDuplicatesStraddleKills asserts that every two consecutive copies
// of an event arrived on either side of a kill: a running syncer never
// sends an event twice.
func requireDuplicatesStraddleKills(t *testing.T, fake *bentotest.Server, kills []time.Time) {
	t.Helper()
	reqs := fake.Requests()
	for id, copies := range tallyOf(fake.Received()).copies {
		for i := 1; i < len(copies); i++ {
			first, again := reqs[copies[i-1].Request].Time, reqs[copies[i].Request].Time
			straddles := false
			for _, k := range kills {
				straddles = straddles || (first.Before(k) && !again.Before(k))
			}
			require.True(t, straddles, "%s was delivered twice by one process (at %s and %s)", id,
				first.Format(time.StampMicro), again.Format(time.StampMicro))
		}
	}
}

// duplicatesPerKill explains the duplicates for a failure message: for each
// kill, how many first copies preceded it, from how many requests, and how
// long before the kill the oldest of those requests arrived.
func duplicatesPerKill(fake *bentotest.Server, kills []time.Time) string {
	reqs := fake.Requests()
	type stat struct {
		events int
		reqs   map[int]bool
		oldest time.Duration
	}
	stats := make([]stat, len(kills))
	for _, copies := range tallyOf(fake.Received()).copies {
		for i := 1; i < len(copies); i++ {
			first := copies[i-1].Request
			at := reqs[first].Time
			for k, kt := range kills {
				if at.Before(kt) && (k == 0 || !at.Before(kills[k-1])) {
					st := &stats[k]
					if st.reqs == nil {
						st.reqs = map[int]bool{}
					}
					st.events++
					st.reqs[first] = true
					st.oldest = max(st.oldest, kt.Sub(at))
				}
			}
		}
	}
	out := ""
	for k, st := range stats {
		out += fmt.Sprintf("[kill %d: %d events re-sent from %d requests, the oldest received %s before the kill] ",
			k+1, st.events, len(st.reqs), st.oldest.Round(time.Millisecond))
	}
	return out
}
