package ledger_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/stream"
)

// benchBatch is what one request of `cdc bench` hands the ledger: n
// purchases (the default batch is 500), each with a WAL position, a row
// key, a unique key, an amount and a date.
func benchBatch(n int, seed int) []ledger.Record {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	recs := make([]ledger.Record, n)
	for i := range recs {
		k := strconv.Itoa(seed*n + i)
		recs[i] = ledger.Record{Origin: ledger.OriginStream, Delivered: stream.Delivered{
			Pos:  stream.Position{CommitLSN: stream.LSN(0x16B3A80 + seed*n + i/100), Index: i % 100, Sub: 1},
			Rule: "order_placed", Table: "public.orders", Key: "id=" + k, Type: "$purchase",
			Email: "customer" + strconv.Itoa(i%397) + "@example.com", Date: at.Add(time.Duration(i) * time.Millisecond),
			Value:   stream.Value{UniqueKey: "order-" + k, Amount: int64(1000 + i), HasAmount: true, Currency: "USD"},
			Request: "7f3c9a2e-5b1d-4e8f-9a6c-" + strconv.Itoa(100000000000+seed), Accepted: at.Add(time.Second),
		}}
	}
	return recs
}

// BenchmarkWrite is the ledger's share of an acknowledgement: one request
// of 500 purchases written in its own transaction (as the checkpoint's
// would be) against real Postgres. ns/event is the figure to compare with
// the end-to-end rate (issue 13: under 10% at `ledger: all`).
func BenchmarkWrite(b *testing.B) {
	const perWrite = 500
	db := newDB(b)
	ctx := context.Background()
	w := ledger.NewWriter("cdc")
	batches := make([][]ledger.Record, 16)
	for i := range batches {
		batches[i] = benchBatch(perWrite, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tx, err := db.Pool.Begin(ctx)
		require.NoError(b, err)
		require.NoError(b, w.Write(ctx, tx, batches[i%len(batches)]))
		require.NoError(b, tx.Commit(ctx))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perWrite), "ns/event")
}
