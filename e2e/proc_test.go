package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncer is one `cdc run` process. Its stderr (the logs) goes to a file
// that is dumped when the test fails.
type syncer struct {
	t       *testing.T
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	state   *os.ProcessState
}

// startSyncer starts `cdc run` and waits until /readyz says it streams.
func (e *env) startSyncer() *syncer {
	e.t.Helper()
	s := e.spawn()
	client := &http.Client{Timeout: time.Second}
	ready := func() bool {
		resp, err := client.Get("http://" + e.httpAddr + "/readyz")
		if err != nil {
			return s.exited()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK || s.exited()
	}
	require.Eventually(e.t, ready, 60*time.Second, 20*time.Millisecond, "cdc run never became ready")
	if s.exited() {
		e.t.Fatalf("cdc run exited while starting: %s", s.state)
	}
	return s
}

// spawn starts `cdc run` without waiting for it.
func (e *env) spawn() *syncer {
	e.t.Helper()
	e.runs++
	s := &syncer{t: e.t, logPath: filepath.Join(e.dir, fmt.Sprintf("run-%d.log", e.runs)), done: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	require.NoError(e.t, err)
	s.cmd = exec.Command(cdcBin, "run", "--config", e.cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	require.NoError(e.t, s.cmd.Start())
	go func() {
		_ = s.cmd.Wait()
		s.state = s.cmd.ProcessState
		logFile.Close()
		close(s.done)
	}()
	e.t.Cleanup(s.cleanup)
	return s
}

// cleanup kills a process the test left running and shows its logs if the
// test failed.
func (s *syncer) cleanup() {
	if !s.exited() {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if s.t.Failed() {
		s.t.Logf("--- %s (last lines) ---\n%s", filepath.Base(s.logPath), tail(s.logs(), 80))
	}
}

func (s *syncer) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone: no chance to
// flush, checkpoint or close anything.
func (s *syncer) kill() {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGKILL))
	<-s.done
}

// terminate sends SIGTERM and waits up to limit for the exit; it returns
// the exit code and how long the shutdown took.
func (s *syncer) terminate(limit time.Duration) (int, time.Duration) {
	s.t.Helper()
	start := time.Now()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.done:
	case <-time.After(limit):
		s.t.Fatalf("cdc run did not exit within %s of SIGTERM", limit)
	}
	return s.state.ExitCode(), time.Since(start)
}

// rssBytes is the process's resident set size (VmRSS).
func (s *syncer) rssBytes() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
}

func (s *syncer) logs() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
