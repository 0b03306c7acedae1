package bento

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func TestTrackerPopsOnlyContiguousDone(t *testing.T) {
	tr := newTracker()
	pos := func(i int) stream.Position { return stream.Position{CommitLSN: stream.LSN(i)} }
	var seqs []uint64
	for i := range 5 {
		seqs = append(seqs, tr.add(pos(i+1), time.Time{}, 1))
	}
	tr.done(seqs[1])
	tr.done(seqs[2])
	require.Zero(t, tr.pop().n, "item 0 is not done: nothing may be acknowledged")

	tr.done(seqs[0])
	p := tr.pop()
	require.Equal(t, 3, p.n)
	require.Equal(t, pos(3), p.last)
	require.Equal(t, 5, tr.len(), "popped items count until their ack returned")
	tr.acked(p.n)
	require.Equal(t, 2, tr.len())

	select {
	case <-tr.emptied():
		t.Fatal("tracker reports empty with items outstanding")
	default:
	}
	tr.done(seqs[4])
	tr.done(seqs[3])
	p = tr.pop()
	require.Equal(t, 2, p.n)
	require.Equal(t, pos(5), p.last)
	select {
	case <-tr.emptied():
		t.Fatal("tracker reports empty before the ack returned")
	default:
	}
	tr.acked(p.n)
	<-tr.emptied()

	seq := tr.add(pos(6), time.Now(), 1)
	require.Equal(t, uint64(5), seq, "sequence numbers keep counting after the tracker empties")
}

// Commit marks hold no slot, and a mark after a mark replaces it, so the
// tracker holds at most one mark between two events.
func TestTrackerCoalescesMarks(t *testing.T) {
	tr := newTracker()
	pos := func(i int) stream.Position { return stream.Position{CommitLSN: stream.LSN(i)} }
	seq := tr.add(pos(1), time.Time{}, 7)
	for i := 2; i <= 100; i++ {
		tr.addMark(pos(i))
	}
	require.Equal(t, 2, tr.len(), "99 marks behind an outstanding event are one entry")
	require.Zero(t, tr.pop().n, "the event is not done")
	tr.done(seq)
	p := tr.pop()
	require.Equal(t, 2, p.n)
	require.Equal(t, 1, p.held, "only the event held a queue slot")
	require.Equal(t, int64(7), p.size, "only the event held bytes")
	require.Equal(t, pos(100), p.last, "the last mark's position is acknowledged")
	tr.acked(p.n)
	<-tr.emptied()
}

func TestQueueTakeCutsAtSourceCountAndBytes(t *testing.T) {
	mk := func(src string, size int) *entry { return &entry{source: src, body: make([]byte, size)} }
	tests := []struct {
		name     string
		entries  []*entry
		maxN     int
		maxBytes int
		want     int
	}{
		{"all fit", []*entry{mk("a", 10), mk("a", 10), mk("a", 10)}, 10, 1000, 3},
		{"count", []*entry{mk("a", 10), mk("a", 10), mk("a", 10)}, 2, 1000, 2},
		{"source change", []*entry{mk("a", 10), mk("b", 10), mk("a", 10)}, 10, 1000, 1},
		{"bytes", []*entry{mk("a", 100), mk("a", 100), mk("a", 100)}, 10, envelopeBytes + 210, 2},
		{"oversized first still goes", []*entry{mk("a", 5000), mk("a", 1)}, 10, 1000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue()
			for _, e := range tt.entries {
				q.push(e)
			}
			got := q.take(tt.maxN, tt.maxBytes, nil)
			require.Len(t, got, tt.want)
			require.Same(t, tt.entries[0], got[0])
			require.Len(t, q.items, len(tt.entries)-tt.want)
		})
	}
}

func TestPartitionIgnoresEmailCase(t *testing.T) {
	for _, n := range []int{1, 4, 7} {
		require.Equal(t, partition("Ann@Example.com", n), partition("ann@example.com ", n))
		require.Less(t, partition("x@example.com", n), n)
	}
}
