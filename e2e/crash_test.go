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
// whose copies straddle a kill, re-sent because their requests were in
// flight (not yet checkpointed) at the kill (design.md §3): at most a batch
// per kill. Purchases, deduplicated by their unique key as Bento does, add
// up to the database's totals exactly.
func TestKill9MidStream(t *testing.T) {
	const kills, changes = 4, 20000
	e := newEnv(t, envOptions{BatchSize: 20})
	s := e.startSyncer()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWriter(e.db.Pool, 1)
	written := make(chan error, 1)
	go func() { written <- w.Run(ctx, changes) }()

	rng := rand.New(rand.NewPCG(2, 2))
	var killedAt []time.Time
	for i := 0; i < kills; i++ {
		// A random moment while the writer is busy.
		at := int64(changes*(i+1)/(kills+1) + rng.IntN(changes/(kills+1)/2))
		require.Eventually(t, func() bool { return w.progress.Load() >= at }, time.Minute, time.Millisecond)
		s.Kill()
		// After the process is gone: a request it sent arrived before this.
		killedAt = append(killedAt, time.Now())
		s = e.startSyncer()
	}
	require.NoError(t, <-written)
	require.GreaterOrEqual(t, w.changes, changes)

	want := e.waitDelivered(t, 3*time.Minute)
	dups := want.check(t, e.fake)
	requireDuplicatesStraddleKills(t, e.fake, killedAt)
	perKill := duplicatesPerKill(e.fake, killedAt)
	keyed := 0
	for _, k := range perKill {
		keyed += k.events
	}
	t.Logf("%d changes, %d events received, %d duplicates (%d of unique events) after %d kills: %v",
		w.changes, len(e.fake.Received()), dups, keyed, kills, perKill)
	require.LessOrEqual(t, keyed, kills*e.opts.BatchSize, "more events re-sent than a batch per kill: %v", perKill)
	require.False(t, s.Exited(), "the last syncer died")
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

// killStat is what one kill caused to be sent again: events (with a unique
// identity), the requests that had first carried them, and how long before
// the kill the oldest of those requests arrived.
type killStat struct {
	events, requests int
	oldest           time.Duration
}

func (k killStat) String() string {
	return fmt.Sprintf("%d events re-sent from %d requests, the oldest received %s before the kill",
		k.events, k.requests, k.oldest.Round(time.Millisecond))
}

// duplicatesPerKill attributes each re-sent event to the kill that
// followed its first copy.
func duplicatesPerKill(fake *bentotest.Server, kills []time.Time) []killStat {
	reqs := fake.Requests()
	stats := make([]killStat, len(kills))
	seen := make([]map[int]bool, len(kills))
	for _, copies := range tallyOf(fake.Received()).copies {
		for i := 1; i < len(copies); i++ {
			first := copies[i-1].Request
			at := reqs[first].Time
			k := sortSearchTime(kills, at)
			if k == len(kills) {
				continue // no kill after it: requireDuplicatesStraddleKills reports it
			}
			if seen[k] == nil {
				seen[k] = map[int]bool{}
			}
			seen[k][first] = true
			stats[k].events++
			stats[k].requests = len(seen[k])
			stats[k].oldest = max(stats[k].oldest, kills[k].Sub(at))
		}
	}
	return stats
}

// sortSearchTime returns the index of the first kill after at.
func sortSearchTime(kills []time.Time, at time.Time) int {
	for i, k := range kills {
		if at.Before(k) {
			return i
		}
	}
	return len(kills)
}
