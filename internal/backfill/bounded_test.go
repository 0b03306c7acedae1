package backfill

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
)

// TestChunkQueryWalksThePrimaryKey: each chunk is an index range scan that
// stops after the limit, never a sequential scan or a sort of the table.
func TestChunkQueryWalksThePrimaryKey(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 10, 20000)
	ctx := context.Background()
	tbl, err := describeTable(ctx, db.Pool, "orders")
	require.NoError(t, err)
	sql := tbl.selectSQL("", true, 1000)
	require.Contains(t, sql, `WHERE ("id") > ($1) ORDER BY "id" LIMIT 1000`)
	require.NotContains(t, sql, "OFFSET")

	var plan []struct{ Plan planNode }
	var raw []byte
	require.NoError(t, db.Pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, "12000").Scan(&raw))
	require.NoError(t, json.Unmarshal(raw, &plan))
	top := plan[0].Plan
	require.Equal(t, "Limit", top.NodeType)
	require.Len(t, top.Plans, 1)
	require.Equal(t, "Index Scan", top.Plans[0].NodeType)
	require.Equal(t, "orders_pkey", top.Plans[0].IndexName)
}

type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// heapReporter samples the live heap at every delivered chunk.
type heapReporter struct{ peak uint64 }

func (h *heapReporter) Start(string, int64, int64) {}
func (h *heapReporter) Finish()                    {}
func (h *heapReporter) Advance(int64) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	h.peak = max(h.peak, m.HeapAlloc)
}

// BenchmarkBackfill200k backfills 200,000 orders and fails if the live heap
// ever exceeds 64 MiB: holding the table (about 1 KiB a row decoded) would
// need three times that. Run with: go test -run - -bench Backfill200k.
func BenchmarkBackfill200k(b *testing.B) {
	db := newDB(b)
	seedOrders(b, db, 1000, 200000)
	// A counting Bento: the recording fake would itself hold every event.
	var events atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Events []json.RawMessage }
		_ = json.NewDecoder(r.Body).Decode(&body)
		events.Add(int64(len(body.Events)))
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	defer srv.Close()
	cfg := testBento(srv.URL)
	cfg.BatchSize = bento.DefaultBatchSize // the benchmark measures the syncer's default
	set := exampleRules(b)
	for b.Loop() {
		h := &heapReporter{}
		events.Store(0)
		res, err := Run(context.Background(), Options{Pool: db.Pool, Rules: set, Schema: schema, Table: "orders",
			Bento: cfg, Restart: true, Progress: h})
		require.NoError(b, err)
		require.EqualValues(b, 200000, res.Rows)
		require.EqualValues(b, 120000, events.Load())
		b.ReportMetric(float64(h.peak)/(1<<20), "peak-heap-MiB")
		require.Less(b, h.peak, uint64(64<<20), "backfill memory must not grow with the table")
	}
}
