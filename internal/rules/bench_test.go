package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// BenchmarkEvaluatePurchase runs the example purchase_on_paid rule without
// its lookup (the email and names come from the row) over a pending -> paid
// update: the per-change cost of the rules engine itself.
func BenchmarkEvaluatePurchase(b *testing.B) {
	sp := loadExample(b).Rules[0]
	require.Equal(b, "purchase_on_paid", sp.Name)
	sp.Lookups = nil
	sp.Event.Email = "= lower(trim(new.email))"
	sp.Event.Fields = map[string]any{"first_name": "= new.first_name", "last_name": "= new.last_name"}
	s := mustCompile(b, Defaults{Source: "pos"}, sp)
	e := NewEvaluator(s, nil)
	c := change(stream.OpUpdate, "public.orders",
		order(10, 1, "paid", "paid_at", goldenPaid, "email", " Ann@Example.com", "first_name", "Ann", "last_name", "Lee"),
		order(10, 1, "pending"))
	ctx := context.Background()
	dst := make([]stream.Item, 0, 4)
	items, err := e.Evaluate(ctx, c, dst)
	require.NoError(b, err)
	require.Len(b, items, 1)
	require.Equal(b, int64(1999), items[0].Event.Details["value"].(map[string]any)["amount"])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Evaluate(ctx, c, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
