// Package logtest owns the one log sink tests share with the goroutines
// of the code under test: a buffer safe for concurrent writes and reads.
// Nothing outside tests imports it.
package logtest

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is an io.Writer for a logger (or a subprocess's output) that a
// test reads while the code under test still writes to it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count is how many times s was written so far.
func (l *Buffer) Count(s string) int { return strings.Count(l.String(), s) }
