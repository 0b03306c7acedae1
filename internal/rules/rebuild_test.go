package rules

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// A dead letter stored under a table's old name, replayed after the table
// was renamed and the rule updated, says exactly what to do: backfill the
// row (with its key condition) from the new table, then discard (U7).
func TestRebuildAfterTableRenameSaysWhatToDo(t *testing.T) {
	renamed := signupSpec("signup")
	renamed.Table = "clients"
	e := NewEvaluator(mustCompile(t, Defaults{}, renamed), nil)
	stored, err := stream.MarshalChange(customerInsert("ann@example.com"))
	require.NoError(t, err)

	_, err = e.Rebuild(context.Background(), stored, "signup")
	require.EqualError(t, err, `rule "signup" now reads public.clients, not public.customers where this row was stored `+
		`(a renamed table?): a stored row is not replayed against another table; send the row's current state with `+
		`cdc backfill --table public.clients --where "id = '7'", then cdc dlq discard this dead letter`)

	_, err = e.Rebuild(context.Background(), stored, "gone")
	require.ErrorContains(t, err, `rule "gone" is no longer in the config`)

	evs, err := NewEvaluator(mustCompile(t, Defaults{}, signupSpec("signup")), nil).Rebuild(context.Background(), stored, "signup")
	require.NoError(t, err)
	require.Len(t, evs, 1, "under its own table the row replays")
}

// A dead letter for old values the replica identity kept out of the change
// can never replay, whatever the identity is now: replay says so and how to
// send the row's current state instead, not "still fails" with a fix that
// cannot help it (user trial).
func TestRebuildOfAChangeWithoutOldValuesSaysItCannotReplay(t *testing.T) {
	e := NewEvaluator(mustCompile(t, Defaults{}, purchaseSpec()), nil)
	c := paidOrder()
	c.Old = nil
	stored, err := stream.MarshalChange(c)
	require.NoError(t, err)

	_, err = e.Rebuild(context.Background(), stored, "purchase")
	require.ErrorContains(t, err, `rule "purchase" cannot replay this dead letter: the rule reads the old status but the server `+
		`sent no old value; set REPLICA IDENTITY FULL on public.orders (and on each of its partitions, if it is partitioned)`)
	require.ErrorContains(t, err, `lacks those values for good`)
	require.ErrorContains(t, err, `cdc backfill --table public.orders --where "id = '42'"`)
}

// The backfill condition a replay message gives reads back in Postgres:
// a timestamp key in RFC 3339, quotes doubled.
func TestKeyConditionIsSQL(t *testing.T) {
	c := &stream.Change{Key: []string{"id", "placed_at", "code"}, New: stream.Row{
		"id": int64(7), "placed_at": time.Date(2026, 1, 5, 10, 30, 0, 500, time.UTC), "code": "o'k"}}
	require.Equal(t, `id = '7' AND placed_at = '2026-01-05T10:30:00.0000005Z' AND code = 'o''k'`, keyCondition(c))
}
