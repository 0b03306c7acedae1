package ledger_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/stream"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newDB(t testing.TB) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	db.Migrate(t, "cdc")
	return db
}

func purchase(email, key string, amount int64, at time.Time) ledger.Record {
	return ledger.Record{Origin: ledger.OriginStream, Delivered: stream.Delivered{
		Pos: stream.Position{CommitLSN: 0x100, Index: 1, Sub: 1}, Rule: "buy", Type: "$purchase", Email: email,
		Value:   stream.Value{UniqueKey: key, Amount: amount, HasAmount: true, Currency: "USD"},
		Request: "r1", Accepted: at,
	}}
}

func TestWriteFindAndPrune(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w := ledger.NewWriter("cdc")
	require.NoError(t, w.Write(ctx, db.Pool, []ledger.Record{
		purchase("ann@example.com", "1", 1999, now.Add(-40*24*time.Hour)),
		purchase("ann@example.com", "2", 500, now.Add(-time.Hour)),
		{Origin: ledger.OriginBackfill, Delivered: stream.Delivered{Rule: "sub", Type: "$subscribe", Email: "bob@example.com", Request: "r2", Accepted: now}},
	}))
	got, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Email: "Ann@Example.com"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "0/100#1.1", *got[0].Position, "position of a stream row")
	bob, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Email: "bob@example.com"})
	require.NoError(t, err)
	require.Len(t, bob, 1)
	require.Nil(t, bob[0].Position, "a backfill row has no WAL position")
	require.Nil(t, bob[0].Amount)

	p := ledger.NewPruner(db.Pool, "cdc", ledger.DefaultRetention, func() time.Time { return now }, nil)
	n, err := p.Prune(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "only the row older than 30 days goes")
	left, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	require.Len(t, left, 2)
}

func TestModeKeepsPurchasesAndCommands(t *testing.T) {
	ds := []stream.Delivered{
		{Type: "$purchase", Value: stream.Value{UniqueKey: "1", Amount: 1, HasAmount: true}},
		{Type: "$subscribe"},
		{Type: "$change_email"},
	}
	require.Len(t, ledger.ModePurchases.Filter(append([]stream.Delivered(nil), ds...)), 2)
	require.Len(t, ledger.ModeAll.Filter(append([]stream.Delivered(nil), ds...)), 3)
	_, err := ledger.ParseMode("some")
	require.Error(t, err)
}

// One acknowledgement is one row of ledger_batches, whatever its number of
// events, and the view gives every event back, in order, as written.
func TestWriteOneRowPerRequest(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	recs := benchBatch(500, 3)
	require.NoError(t, ledger.NewWriter("cdc").Write(ctx, db.Pool, recs))
	var batches int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM cdc.ledger_batches`).Scan(&batches))
	require.Equal(t, 1, batches)
	got, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{})
	require.NoError(t, err)
	require.Len(t, got, len(recs))
	for i, e := range got {
		r := recs[i]
		require.Equal(t, r.Key, e.RowKey)
		require.Equal(t, r.Value.UniqueKey, *e.UniqueKey)
		require.Equal(t, r.Value.Amount, *e.Amount)
		require.Equal(t, r.Email, e.Email)
		require.True(t, r.Date.Truncate(time.Microsecond).Equal(*e.EventAt), "event_at %v, want %v", *e.EventAt, r.Date)
		require.True(t, r.Accepted.Equal(e.Accepted))
		require.Equal(t, r.Pos.CommitLSN.String()+"#"+strconv.Itoa(r.Pos.Index)+"."+strconv.Itoa(r.Pos.Sub), *e.Position)
	}
}

// TestFindByKeyIncludesCorrections: "what did we send for order 10?" is
// the purchase and every reconcile correction that adjusts it, whose own
// key is 10~adj<n>; another order's purchase and correction stay out.
func TestFindByKeyIncludesCorrections(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	correction := func(key, adjusts string, amount int64) ledger.Record {
		r := purchase("ann@example.com", key, amount, now)
		r.Origin, r.Adjusts, r.Pos, r.Request = ledger.OriginReconcile, adjusts, stream.Position{}, "r2"
		return r
	}
	require.NoError(t, ledger.NewWriter("cdc").Write(ctx, db.Pool, []ledger.Record{
		purchase("ann@example.com", "10", 300, now.Add(-time.Hour)),
		purchase("ann@example.com", "100", 700, now.Add(-time.Hour)),
	}))
	require.NoError(t, ledger.NewWriter("cdc").Write(ctx, db.Pool, []ledger.Record{
		correction("10~adj1", "10", 50),
		correction("100~adj1", "100", -20),
	}))
	got, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Key: "10"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "10", *got[0].UniqueKey)
	require.Equal(t, "10~adj1", *got[1].UniqueKey)
	require.Equal(t, "10", *got[1].Adjusts)
	require.EqualValues(t, 350, *got[0].Amount+*got[1].Amount, "what Bento counts for order 10")
	adj, err := ledger.Find(ctx, db.Pool, "cdc", ledger.Query{Key: "10~adj1"})
	require.NoError(t, err)
	require.Len(t, adj, 1, "a correction's own key finds only it")
}

// TestFindPageKeepsTheNewest: past the limit Find returns the newest rows,
// oldest first, and says older ones exist; at the limit it says nothing.
func TestFindPageKeepsTheNewest(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w := ledger.NewWriter("cdc")
	for i := range 5 {
		require.NoError(t, w.Write(ctx, db.Pool, []ledger.Record{
			purchase("ann@example.com", strconv.Itoa(i), 100, now.Add(time.Duration(i)*time.Minute))}))
	}
	p, err := ledger.FindPage(ctx, db.Pool, "cdc", ledger.Query{Limit: 3})
	require.NoError(t, err)
	require.True(t, p.More)
	require.Len(t, p.Entries, 3)
	for i, want := range []string{"2", "3", "4"} {
		require.Equal(t, want, *p.Entries[i].UniqueKey)
	}
	p, err = ledger.FindPage(ctx, db.Pool, "cdc", ledger.Query{Limit: 5})
	require.NoError(t, err)
	require.False(t, p.More)
	require.Len(t, p.Entries, 5)
	require.Equal(t, "0", *p.Entries[0].UniqueKey)
}
