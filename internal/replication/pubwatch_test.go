package replication

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/logtest"
)

// A rule's table dropped from the publication while the reader streams
// makes it unhealthy with the table and the fix, logged once at ERROR, and
// healthy again once the table is back. A watched table renamed meanwhile
// (still published, matched by identity) is not reported.
func TestPublicationLosesTableWhileStreaming(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.kept (id int PRIMARY KEY); CREATE TABLE public.reviews (id int PRIMARY KEY);
		CREATE TABLE public.moved (id int PRIMARY KEY)`, "public.kept", "public.reviews", "public.moved")
	var logs logtest.Buffer
	h.startLogging(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	healthy := func() bool { ok, _ := h.reader.Healthy(); return ok }
	require.Eventually(t, healthy, 20*time.Second, 10*time.Millisecond)

	h.db.Exec(t, `ALTER TABLE public.moved RENAME TO moved_v2`)
	h.db.Exec(t, `ALTER PUBLICATION pub DROP TABLE public.reviews`)
	var reason string
	require.Eventually(t, func() bool {
		var ok bool
		ok, reason = h.reader.Healthy()
		return !ok && strings.HasPrefix(reason, "table public.reviews is not in publication pub since ")
	}, 20*time.Second, 10*time.Millisecond, "reason: %s", reason)
	require.Contains(t, reason, "an admin runs ALTER PUBLICATION pub ADD TABLE public.reviews; then cdc backfill --table public.reviews")
	require.NotContains(t, reason, "moved")

	h.db.Exec(t, `ALTER PUBLICATION pub ADD TABLE public.reviews`)
	require.Eventually(t, healthy, 20*time.Second, 10*time.Millisecond, "not healthy again: %s", logs.String())
	require.Equal(t, 1, logs.Count("level=ERROR"), logs.String())
	require.Equal(t, 1, logs.Count("a rule's table is not in the publication"), logs.String())
	require.Equal(t, 1, logs.Count("table back in the publication"), logs.String())
}

// The check itself, run by hand: however often it finds the table missing,
// it logs one ERROR; the reason keeps the time the table went missing; a
// second table going missing is logged on its own; each table coming back
// is logged once.
func TestCheckPublicationLogsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int PRIMARY KEY)`, "public.a", "public.b")
	var logs logtest.Buffer
	r := NewReader(h.cfg, h.store, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r.setHealthy(true, "")
	var w pubWatch
	h.db.Exec(t, `ALTER PUBLICATION pub DROP TABLE public.a`)
	for range 3 {
		r.checkPublication(t.Context(), &w)
	}
	ok, first := r.Healthy()
	require.False(t, ok)
	require.Contains(t, first, "table public.a is not in publication pub since ")
	require.Equal(t, 1, logs.Count("level=ERROR"), logs.String())

	h.db.Exec(t, `ALTER PUBLICATION pub DROP TABLE public.b`)
	r.checkPublication(t.Context(), &w)
	r.checkPublication(t.Context(), &w)
	ok, both := r.Healthy()
	require.False(t, ok)
	require.True(t, strings.HasPrefix(both, "tables public.a, public.b are not in publication pub since "+
		strings.TrimPrefix(first, "table public.a is not in publication pub since ")[:20]), both)
	require.Contains(t, both, "ALTER PUBLICATION pub ADD TABLE public.a, public.b;")
	require.Equal(t, 2, logs.Count("level=ERROR"), logs.String())

	h.db.Exec(t, `ALTER PUBLICATION pub ADD TABLE public.a, public.b`)
	r.checkPublication(t.Context(), &w)
	r.checkPublication(t.Context(), &w)
	ok, _ = r.Healthy()
	require.True(t, ok)
	require.Equal(t, 1, logs.Count("table back in the publication"), logs.String())
	require.Equal(t, 2, logs.Count("level=ERROR"), logs.String())
}
