package pipeline

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/retry"
	"github.com/pgbento/cdc/internal/stream"
)

// useLedger makes the sender hand accepted events to the acknowledgement,
// which writes them to the ledger in the checkpoint's transaction (issue
// 13), and starts the pruner with the other stages.
func (st *stages) useLedger() {
	mode := st.s.cfg.Ledger
	if mode == ledger.ModeOff {
		return
	}
	w := ledger.NewWriter(st.s.cfg.Source.Schema)
	st.sender.OnDelivered(func(p stream.Position, accepted []stream.Delivered) {
		st.saveRetrying(p, w.InTx(mode.Filter(accepted)))
	})
	st.pruner = ledger.NewPruner(st.pool, st.s.cfg.Source.Schema, st.s.cfg.LedgerRetention, nil, st.s.opts.Logger)
}

// saveRetrying saves p (with also in the same transaction) before it
// returns, retrying while the save fails, holding delivery, until it works
// or sending stops. Syncer.acked (the final save on the way out) moves only
// once the ledger rows are durable: a position must never be saved without
// them.
func (st *stages) saveRetrying(p stream.Position, also replication.AlsoFunc) {
	if also == nil {
		st.s.setAcked(p)
	}
	b := retry.Backoff(200*time.Millisecond, 10*time.Second)
	logged := false
	err := backoff.Retry(func() error {
		saveCtx, cancel := context.WithTimeout(st.sendCtx, 5*time.Second)
		defer cancel()
		err := st.reader.AckDurablyWith(saveCtx, p, also)
		if err != nil && !logged && st.sendCtx.Err() == nil {
			st.s.log.Warn("saving the checkpoint failed; delivery waits and retries", "error", err)
			logged = true
		}
		return err
	}, backoff.WithContext(b, st.sendCtx))
	if err == nil && also != nil {
		st.s.setAcked(p)
	}
}
