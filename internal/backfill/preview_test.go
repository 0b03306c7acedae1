package backfill

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// TestPreviewPrintsEventsAndSendsNothing: preview prints the events (and
// failures) the rules would make of existing rows, in key order, and leaves
// no trace: no progress, no dead letters, no request.
func TestPreviewPrintsEventsAndSendsNothing(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 4, 10)
	db.Exec(t, `UPDATE customers SET email = 'broken' WHERE id = 3`) // order 2 belongs to customer 3
	fb := newFakeBento(t)
	opts := fb.options(db, exampleRules(t), "orders")
	opts.ChunkSize = 2
	var out bytes.Buffer
	rows, err := Preview(context.Background(), opts, 7, func(it stream.Item) error { return WritePreviewLine(&out, it) })
	require.NoError(t, err)
	require.EqualValues(t, 7, rows)

	// Orders 1..7: paid_at set for i % 5 in (1, 2, 3): orders 1, 2, 3, 6, 7.
	var got []previewLine
	for _, l := range lines(out.String()) {
		var pl previewLine
		require.NoError(t, json.Unmarshal([]byte(l), &pl))
		got = append(got, pl)
	}
	require.Len(t, got, 5)
	wantKeys := []string{"id=1", "id=2", "id=3", "id=6", "id=7"}
	for i, pl := range got {
		require.Equal(t, wantKeys[i], pl.Key)
		require.Equal(t, "purchase_on_paid", pl.Rule)
		require.Equal(t, "public.orders", pl.Table)
	}
	require.Equal(t, "failure", got[1].Kind)
	require.Contains(t, got[1].Reason, "email")
	require.Equal(t, "event", got[0].Kind)
	var ev struct {
		Type    string
		Email   string
		Date    string
		Details struct {
			Unique struct{ Key string }
			Value  struct{ Amount json.Number }
		}
	}
	require.NoError(t, json.Unmarshal(got[0].Event, &ev))
	require.Equal(t, "$purchase", ev.Type)
	require.Equal(t, "customer2@example.com", ev.Email)
	require.Equal(t, "2023-01-01T00:17:00.000Z", ev.Date)
	require.Equal(t, "1", ev.Details.Unique.Key)
	require.Equal(t, "199", ev.Details.Value.Amount.String())

	require.Empty(t, fb.Requests())
	require.Zero(t, count(t, db, `SELECT count(*) FROM cdc.backfill`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM cdc.dead_letters`))
}
