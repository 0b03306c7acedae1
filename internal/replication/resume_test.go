package replication

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func TestResumeFilter(t *testing.T) {
	t.Parallel()
	pos := func(c stream.LSN, i int) stream.Position { return stream.Position{CommitLSN: c, Index: i} }
	type check struct {
		pos  stream.Position
		emit bool
		sub  int
	}
	tests := []struct {
		name   string
		resume resumePoint
		checks []check
	}{
		{"nothing acked", resumeAfterAck(stream.Position{}), []check{{pos(1, 0), true, 0}}},
		{"acked commit marker skips its tx", resumeAfterAck(stream.Position{CommitLSN: 10, EndLSN: 12, Index: 3}),
			[]check{{pos(9, 5), false, 0}, {pos(10, 0), false, 0}, {pos(10, 3), false, 0}, {pos(11, 0), true, 0}}},
		{"acked event resumes inside the change", resumeAfterAck(stream.Position{CommitLSN: 10, Index: 2, Sub: 1}),
			[]check{{pos(10, 1), false, 0}, {pos(10, 2), true, 1}, {pos(10, 3), true, 0}, {pos(11, 0), true, 0}}},
		{"emitted change is not emitted again", resumeAfterEmit(pos(10, 2)),
			[]check{{pos(10, 2), false, 0}, {pos(10, 3), true, 0}}},
		{"emitted commit marker", resumeAfterEmit(stream.Position{CommitLSN: 10, EndLSN: 12, Index: 3}),
			[]check{{pos(10, 3), false, 0}, {pos(12, 0), true, 0}}},
	}
	for _, tt := range tests {
		for _, c := range tt.checks {
			emit, sub := tt.resume.filter(c.pos)
			require.Equal(t, [2]any{c.emit, c.sub}, [2]any{emit, sub}, "%s: %s", tt.name, c.pos)
		}
	}
}

func TestAckStateReportsOnlyPersistedCommits(t *testing.T) {
	t.Parallel()
	var a ackState
	a.start(stream.Position{CommitLSN: 5, EndLSN: 6, Index: 1})
	_, end := a.durable()
	require.Equal(t, stream.LSN(6), end)

	a.ack(stream.Position{CommitLSN: 10, Index: 0, Sub: 1})
	a.ack(stream.Position{CommitLSN: 10, EndLSN: 12, Index: 1})
	_, end = a.durable()
	require.Equal(t, stream.LSN(6), end, "acked but not saved: not reportable")

	pos, ackedEnd, changed := a.pending()
	require.True(t, changed)
	a.saved(pos, ackedEnd)
	_, end = a.durable()
	require.Equal(t, stream.LSN(12), end)

	a.ack(stream.Position{CommitLSN: 20, Index: 0, Sub: 1})
	pos, ackedEnd, _ = a.pending()
	a.saved(pos, ackedEnd)
	persisted, end := a.durable()
	require.Equal(t, stream.LSN(12), end, "a partly acked tx keeps the previous commit's end")
	require.Equal(t, stream.Position{CommitLSN: 20, Index: 0, Sub: 1}, persisted)

	a.ack(stream.Position{CommitLSN: 15}) // out of order: ignored
	_, _, changed = a.pending()
	require.False(t, changed)
}
