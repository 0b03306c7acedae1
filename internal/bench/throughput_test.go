package bench

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// BenchmarkPipelineThroughput drains a backlog of b.N paid orders (in
// transactions of 100) through the whole pipeline, in process, into the
// stand-in: the figure to watch when changing the syncer's hot path
// without running `cdc bench`. Use a fixed count, e.g.
//
//	go test -run '^$' -bench PipelineThroughput -benchtime 50000x ./internal/bench
func BenchmarkPipelineThroughput(b *testing.B) {
	ctx := context.Background()
	db := pgtest.NewDB(b)
	d, err := openDatabase(ctx, &Options{DSN: db.DSN, Writers: 1, Out: io.Discard})
	require.NoError(b, err)
	defer d.close()
	require.NoError(b, d.prepare(ctx, 100, cdcSlot(0)))
	require.NoError(b, writeBacklog(ctx, d.pool, b.N, 100, 100, 0))
	s, err := startSink(false, 0)
	require.NoError(b, err)
	defer s.close()
	path, err := writeConfig(b.TempDir(), syncerConfig{dsn: db.DSN, slot: cdcSlot(0), bentoURL: s.url,
		httpAddr: "127.0.0.1:0", batchSize: DefaultBatchSize})
	require.NoError(b, err)
	cfg, err := config.Load(path)
	require.NoError(b, err)

	b.ResetTimer()
	runCtx, stop := context.WithCancel(ctx)
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		runErr = pipeline.New(cfg, pipeline.Options{}).Run(runCtx)
	}()
	waitErr := s.waitFor(ctx, b.N, exited)
	b.StopTimer()
	stop()
	<-exited
	require.NoError(b, waitErr)
	require.NoError(b, runErr)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
