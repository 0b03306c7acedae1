package bento_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/stream"
)

// gatePacer hands out a request token only when the test releases one.
type gatePacer struct {
	asked   chan struct{} // the sender waits for a token
	release chan struct{}
}

func (p *gatePacer) Wait(ctx context.Context) error {
	select {
	case p.asked <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Issue 14, item 4: a paced sender fills its batch while it waits for its
// token. A backlog of single-change transactions (an event and a commit
// mark each) waits behind a queue of 1.5 batches; each token is released
// only once the queue holds a full batch (or all that is left), so every
// request is full. Were commit marks to take queue slots, the queue could
// never hold a full batch and the wait below would fail.
func TestPacedRequestsAreFull(t *testing.T) {
	noLeaks(t)
	const batch, total = 100, 1000
	h := newHarness(t, options{noRun: true, cfg: func(c *bento.Config) { c.BatchSize, c.QueueSize = batch, batch*3/2 }})
	p := &gatePacer{asked: make(chan struct{}), release: make(chan struct{})}
	bento.SetPacer(h.sender, p)
	h.run()
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := range total {
			h.enqueue(event(i, ann(i)), stream.Item{Kind: stream.ItemMark, Pos: mark(i)})
		}
	}()
	for sent := 0; sent < total; sent += batch {
		<-p.asked
		require.Eventually(t, func() bool { return bento.Queued(h.sender) >= batch }, 10*time.Second, time.Millisecond,
			"the queue holds a full batch while the sender waits for its token")
		p.release <- struct{}{}
	}
	<-produced
	h.drain()
	reqs := h.bento.Requests()
	require.Len(t, reqs, total/batch)
	for i, r := range reqs {
		var body struct{ Events []json.RawMessage }
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Len(t, body.Events, batch, "request %d carries a full batch", i)
	}
	require.Equal(t, seqRange(0, total), seqs(t, h.bento.Received()))
	require.Equal(t, mark(total-1), h.lastAck())
}

// mark is the position of test transaction i's commit mark: after its event.
func mark(i int) stream.Position {
	p := pos(i)
	p.Index = 1
	return p
}
