package bento

import "sync"

// barrier orders a change_email across the two partitions its addresses
// map to (issue 11, item 12). The command waits in the old address's
// partition, after every earlier event for it; a gate waits in the new
// address's partition, before every later event for it. The command is sent
// once the gate is reached (everything queued before it in that partition
// is delivered), and the gate opens once the command is settled. A command
// with a barrier is always sent alone, so partitions meet barriers in
// enqueue order and never wait on each other in a cycle.
type barrier struct {
	reached    chan struct{} // closed when the new address's partition reached the gate
	settled    chan struct{} // closed when the command is delivered or dead-lettered
	reachOnce  sync.Once
	settleOnce sync.Once
}

func newBarrier() *barrier {
	return &barrier{reached: make(chan struct{}), settled: make(chan struct{})}
}

func (b *barrier) reach()  { b.reachOnce.Do(func() { close(b.reached) }) }
func (b *barrier) settle() { b.settleOnce.Do(func() { close(b.settled) }) }
