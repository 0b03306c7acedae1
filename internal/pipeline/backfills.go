package pipeline

import (
	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/stream"
)

// ackFunc is the reader's acknowledgement, also told to the in-stream
// backfill, which saves a chunk's progress once its items are acknowledged.
func (st *stages) ackFunc() stream.AckFunc {
	ack := st.reader.AckFunc(st.sendCtx)
	return func(p stream.Position) {
		ack(p)
		st.windows.Acked(p)
	}
}

// useBackfills makes the driver that runs `cdc backfill` requests inside
// this syncer's stream, paced like a separate backfill was: by default at
// half of requests_per_minute, and only while the queue has room.
func (st *stages) useBackfills() {
	cfg := st.s.cfg
	st.backfills = backfill.NewDriver(backfill.StreamOptions{
		Pool: st.pool, Schema: cfg.Source.Schema, Windows: st.windows, ChunkSize: cfg.Backfill.ChunkSize,
		Poll: st.s.opts.BackfillPoll, Pending: st.sender.Pending, QueueSize: cfg.Bento.QueueSize,
		BatchSize: cfg.Bento.BatchSize, PerMinute: cfg.Bento.RequestsPerMinute / 2,
		Logger: st.s.opts.Logger, Hooks: st.s.opts.BackfillHooks,
	})
}
