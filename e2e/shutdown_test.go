package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// TestSIGTERMUnderLoad: SIGTERM while changes flow and requests are in
// flight. The process exits 0 within shutdown_timeout, having stored a
// checkpoint that matches what Bento acknowledged: after a restart nothing
// is missing and not a single event is sent twice. Either the queue drains
// in time, or Bento is so slow that the shutdown hands the rest back.
func TestSIGTERMUnderLoad(t *testing.T) {
	const shutdownTimeout = 5 * time.Second
	for _, tc := range []struct {
		name string
		// delay of every Bento answer once 1,000 events have arrived
		delay time.Duration
	}{
		{"drains", 20 * time.Millisecond},
		{"hands back", 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{BatchSize: 50, ShutdownTimeout: shutdownTimeout})
			e.fake.SetFault(&bentotest.Response{Delay: 20 * time.Millisecond})
			s := e.startSyncer()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := newWriter(e.db.Pool, 5)
			written := make(chan error, 1)
			go func() { written <- w.Run(ctx, 8000) }()
			require.Eventually(t, func() bool { return len(e.fake.Received()) >= 1000 }, time.Minute, 20*time.Millisecond)
			e.fake.SetFault(&bentotest.Response{Delay: tc.delay})
			require.Eventually(t, func() bool { return inFlight(e.fake) }, time.Minute, 5*time.Millisecond)

			code, took := s.terminate(shutdownTimeout + 10*time.Second)
			require.Zero(t, code, "exit code after SIGTERM")
			require.LessOrEqual(t, took, shutdownTimeout+2*time.Second, "shutdown took longer than shutdown_timeout")
			require.Contains(t, s.Logs(), "cdc stopped cleanly")
			t.Logf("stopped in %s after %d events", took.Round(time.Millisecond), len(e.fake.Received()))

			e.fake.SetFault(nil)
			s = e.startSyncer()
			require.NoError(t, <-written)
			want := e.waitDelivered(t, 2*time.Minute)
			require.Zero(t, want.check(t, e.fake), "events re-sent after a graceful stop")
			require.False(t, s.Exited())
		})
	}
}

// inFlight reports whether a request has arrived and not been answered.
func inFlight(fake *bentotest.Server) bool {
	for _, r := range fake.Requests() {
		if r.Status == 0 {
			return true
		}
	}
	return false
}
