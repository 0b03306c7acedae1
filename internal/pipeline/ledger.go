package pipeline

import (
	"github.com/pgbento/cdc/internal/ledger"
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
	ack := st.reader.AckWithFunc(st.sendCtx)
	st.sender.OnDelivered(func(p stream.Position, accepted []stream.Delivered) {
		ack(p, w.InTx(mode.Filter(accepted)))
		st.windows.Acked(p)
	})
	st.pruner = ledger.NewPruner(st.pool, st.s.cfg.Source.Schema, st.s.cfg.LedgerRetention, nil, st.s.opts.Logger)
}
