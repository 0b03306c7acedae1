package bento

import "time"

// SetInitialBackoff shortens the first retry interval so tests run fast.
func SetInitialBackoff(s *Sender, d time.Duration) { s.poster.initial = d }

// SetClock fixes the clock used for signatures and latency.
func SetClock(s *Sender, now func() time.Time) { s.poster.client.now = now }

// SetClientClock fixes a client's clock (replay tests).
func SetClientClock(c *Client, now func() time.Time) { c.now = now }
