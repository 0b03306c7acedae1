package ledger

import (
	"strconv"
	"testing"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// BenchmarkFill is the syncer's CPU share of the ledger for one request of
// 500 purchases: encoding its JSON, without Postgres.
func BenchmarkFill(b *testing.B) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	ds := make([]stream.Delivered, 500)
	for i := range ds {
		k := strconv.Itoa(i)
		ds[i] = stream.Delivered{
			Pos: stream.Position{CommitLSN: stream.LSN(0x16B3A80 + i/100), Index: i % 100, Sub: 1}, Rule: "order_placed",
			Table: "public.orders", Key: "id=" + k, Type: "$purchase", Email: "customer" + strconv.Itoa(i%397) + "@example.com",
			Date: at, Value: stream.Value{UniqueKey: "order-" + k, Amount: int64(1000 + i), HasAmount: true, Currency: "USD"},
			Request: "7f3c9a2e5b1d4e8f", Accepted: at,
		}
	}
	s := new(scratch)
	b.ReportAllocs()
	for b.Loop() {
		s.fill(streamEvents(ds))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ds)), "ns/event")
}
