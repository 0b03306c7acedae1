package replication

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/logtest"
)

// A table added to the publication while the reader runs, with no rule
// for it (README, "Adding a table"): its changes are counted and warned
// about once, not skipped silently; a Relation message sent again (after
// an ALTER TABLE, or in a new session) does not warn again.
func TestUnruledTableWarnsOnceAndCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.watched (id int PRIMARY KEY);
		CREATE TABLE public.wishlist (id int PRIMARY KEY, note text)`, "public.watched")
	var logs logtest.Buffer
	h.startLogging(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	h.db.Exec(t, `ALTER PUBLICATION pub ADD TABLE public.wishlist`)

	h.db.Exec(t, `INSERT INTO public.wishlist VALUES (1, 'a'); INSERT INTO public.wishlist VALUES (2, 'b')`)
	h.db.Exec(t, `ALTER TABLE public.wishlist ADD COLUMN extra int`) // a new Relation message
	h.db.Exec(t, `UPDATE public.wishlist SET extra = 1 WHERE id = 1`)
	h.db.Exec(t, `INSERT INTO public.watched VALUES (1)`)
	for {
		changes, _ := h.tx()
		if len(changes) == 1 && changes[0].Table == "public.watched" {
			break // every wishlist change was decoded before it
		}
	}
	// A new session of the same reader: the server sends the Relation
	// message again, and the unacknowledged wishlist changes too.
	h.db.Exec(t, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1`, h.cfg.Slot)
	h.db.Exec(t, `INSERT INTO public.wishlist VALUES (3, 'c')`)
	h.db.Exec(t, `INSERT INTO public.watched VALUES (2)`)
	for {
		changes, _ := h.tx()
		if len(changes) == 1 && changes[0].Table == "public.watched" && changes[0].New["id"] == int64(2) {
			break
		}
	}
	require.Eventually(t, func() bool { return h.metric("cdc_replication_reconnects_total") >= 1 }, 20*time.Second, 20*time.Millisecond,
		"the session was not replaced")

	require.Equal(t, 1, logs.Count("no rule reads"), logs.String())
	require.Contains(t, logs.String(), "table=public.wishlist")
	require.Contains(t, logs.String(), "cdc backfill --table public.wishlist")
	require.Equal(t, 4.0, h.metric("cdc_replication_changes_skipped_total", "table", "public.wishlist"),
		"three inserts and an update, each once")
	require.Zero(t, logs.Count("public.watched"), "a watched table is not reported")
}
