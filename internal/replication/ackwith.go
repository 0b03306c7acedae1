package replication

import (
	"context"

	"github.com/pgbento/cdc/internal/stream"
)

// AckWithFunc is AckFunc for a delivery side that hands, with each
// acknowledgement, work to do in the transaction that saves it (the
// delivery ledger, issue 13): also (nil: nothing) runs in the same
// transaction as the checkpoint, retried whole until it commits or ctx ends.
//
// The position counts as acknowledged only once that transaction
// committed, so Close can never save it, or a later position, without
// also's rows. Once a save with rows was cut short (delivery stopped while
// the database failed), later calls record nothing: those events are not
// checkpointed, so they are re-read and re-sent after a restart, and
// recorded then.
func (r *Reader) AckWithFunc(ctx context.Context) func(stream.Position, AlsoFunc) {
	abandoned := false // only the delivery side's acker calls, in order
	return func(pos stream.Position, also AlsoFunc) {
		if abandoned {
			return
		}
		if also == nil {
			r.acks.ack(pos)
			r.unacked.acked(pos)
			r.saveUntilDone(ctx)
			return
		}
		abandoned = !r.retrySave(ctx, func() error { return r.saveWith(ctx, pos, also) })
	}
}

// saveWith saves pos with also in one transaction and only then records
// it as acknowledged and saved.
func (r *Reader) saveWith(ctx context.Context, pos stream.Position, also AlsoFunc) error {
	ctx, cancel := context.WithTimeout(ctx, saveTimeout)
	defer cancel()
	if err := r.store.SaveWith(ctx, pos, also); err != nil {
		return err
	}
	r.acks.ack(pos)
	r.unacked.acked(pos)
	p, end, _ := r.acks.pending()
	r.acks.saved(p, end)
	return nil
}
