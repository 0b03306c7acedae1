package bento

import (
	"context"
	"time"
)

// SetInitialBackoff shortens the first retry interval so tests run fast.
func SetInitialBackoff(s *Sender, d time.Duration) { s.poster.initial = d }

// SetClock fixes the clock used for signatures and latency.
func SetClock(s *Sender, now func() time.Time) { s.poster.client.now = now }

// SetClientClock fixes a client's clock (replay tests).
func SetClientClock(c *Client, now func() time.Time) { c.now = now }

// ObserveWaits replaces the sender's retry sleep: f sees every wait, and
// the sender does not actually wait.
func ObserveWaits(s *Sender, f func(time.Duration)) {
	s.poster.sleep = func(ctx context.Context, d time.Duration) error {
		f(d)
		return ctx.Err()
	}
}

// Partition is the partition of an email among n.
func Partition(email string, n int) int { return partition(email, n) }

// SetReplayPoll shortens how often a sender looks for marked dead letters.
func SetReplayPoll(s *Sender, d time.Duration) { s.poll = d }

// SetPacer replaces the sender's request pacer (a test releases tokens).
func SetPacer(s *Sender, p interface{ Wait(context.Context) error }) { s.poster.limiter = p }

// Queued is the number of entries waiting in the sender's partitions.
func Queued(s *Sender) int {
	n := 0
	for _, q := range s.parts {
		q.mu.Lock()
		n += len(q.items)
		q.mu.Unlock()
	}
	return n
}
