package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/cdcproc"
)

// syncer is one `cdc run` process. Its stderr (the logs) goes to a file
// that is dumped when the test fails.
type syncer struct {
	t *testing.T
	*cdcproc.Proc
}

// startSyncer starts `cdc run` and waits until /readyz says it streams.
func (e *env) startSyncer() *syncer {
	e.t.Helper()
	s := e.spawn()
	client := &http.Client{Timeout: time.Second}
	ready := func() bool {
		resp, err := client.Get("http://" + e.httpAddr + "/readyz")
		if err != nil {
			return s.Exited()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK || s.Exited()
	}
	require.Eventually(e.t, ready, 60*time.Second, 20*time.Millisecond, "cdc run never became ready")
	if s.Exited() {
		e.t.Fatalf("cdc run exited while starting: %s", s.State())
	}
	return s
}

// spawn starts `cdc run` without waiting for it.
func (e *env) spawn() *syncer {
	e.t.Helper()
	e.runs++
	p, err := cdcproc.Start([]string{cdcBin, "run", "--config", e.cfgPath}, filepath.Join(e.dir, fmt.Sprintf("run-%d.log", e.runs)))
	require.NoError(e.t, err)
	s := &syncer{t: e.t, Proc: p}
	e.t.Cleanup(s.cleanup)
	return s
}

// cleanup kills a process the test left running and shows its logs if the
// test failed.
func (s *syncer) cleanup() {
	if !s.Exited() {
		s.Kill()
	}
	if s.t.Failed() {
		s.t.Logf("--- cdc run (last lines) ---\n%s", s.Tail(80))
	}
}

// terminate sends SIGTERM and waits up to limit for the exit; it returns
// the exit code and how long the shutdown took.
func (s *syncer) terminate(limit time.Duration) (int, time.Duration) {
	s.t.Helper()
	took, err := s.Terminate(limit)
	if err != nil {
		s.t.Fatalf("cdc run did not exit within %s of SIGTERM", limit)
	}
	return s.State().ExitCode(), took
}
