package reconcile

import (
	"context"
	"fmt"
	"sync"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/stream"
)

// DeadLetterOrigin starts the reason of a repair Bento rejected; such dead
// letters have no stream position.
const DeadLetterOrigin = "reconcile repair"

// send delivers the repairs through a sender of its own (paced by
// o.Limiter, rejected events dead-lettered) and records what Bento accepted
// in the ledger. It returns the purchase keys whose repair was accepted.
func (o Options) send(ctx context.Context, repairs []repair) (map[string]bool, error) {
	s, err := bento.NewSender(o.Bento, bento.SenderOptions{DeadLetters: bento.NewDeadLetterStore(o.Pool, o.Schema),
		Limiter: o.Limiter, HTTPClient: o.HTTPClient, Logger: o.Logger, Registry: o.Registry, Version: o.Version,
		Origin: DeadLetterOrigin})
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	defer o.Health.watch(s)()
	byWireKey := make(map[string]repair, len(repairs))
	for _, rp := range repairs {
		byWireKey[stream.ValueOf(rp.ev.Details).UniqueKey] = rp
	}
	done := map[string]bool{}
	rec := o.recorder()
	sendCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Only the sender's acker calls this, and done is read after Run returned.
	s.OnDelivered(func(_ stream.Position, ds []stream.Delivered) {
		recs := make([]ledger.Record, 0, len(ds))
		for _, d := range ds {
			rp := byWireKey[d.Value.UniqueKey]
			done[rp.key] = true
			recs = append(recs, ledger.Record{Delivered: d, Origin: ledger.OriginReconcile, Adjusts: rp.adjusts})
		}
		if rec != nil {
			rec.Write(sendCtx, recs)
		}
	})
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(sendCtx) })
	err = enqueueAll(ctx, s, repairs)
	if err == nil {
		err = s.Drain(ctx)
	}
	stop()
	wg.Wait()
	if err != nil {
		return done, fmt.Errorf("reconcile: send repairs: %w", err)
	}
	return done, nil
}

func enqueueAll(ctx context.Context, s *bento.Sender, repairs []repair) error {
	for i, rp := range repairs {
		// Positions only order the sender's acknowledgements here; the
		// sender's Origin keeps them out of the dead letters.
		it := stream.Item{Kind: stream.ItemEvent, Pos: stream.Position{CommitLSN: stream.LSN(i + 1)}, Event: rp.ev}
		if err := s.Enqueue(ctx, it); err != nil {
			return err
		}
	}
	return nil
}
