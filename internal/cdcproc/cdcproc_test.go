package cdcproc

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadVmHWM(t *testing.T) {
	hwm, err := memoryBytes("/proc/self/status", "VmHWM")
	require.NoError(t, err)
	require.Greater(t, hwm, int64(1<<20), "a Go test binary holds more than 1 MiB")
	_, err = memoryBytes("/proc/does-not-exist/status", "VmHWM")
	require.Error(t, err)
}

// TestStartTerminateAndRun: a started process is signalled and reaped with
// its log kept; a one-shot command reports output and exit code.
func TestStartTerminateAndRun(t *testing.T) {
	p, err := Start([]string{"sh", "-c", "echo started; trap 'echo bye; exit 0' TERM; while :; do sleep 0.05; done"},
		filepath.Join(t.TempDir(), "p.log"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return p.Logs() == "started\n" }, 10*time.Second, 10*time.Millisecond)
	rss, err := p.MemoryBytes("VmRSS")
	require.NoError(t, err)
	require.Positive(t, rss)
	_, err = p.Terminate(10 * time.Second)
	require.NoError(t, err)
	require.True(t, p.Exited())
	require.NoError(t, p.Err())
	require.Equal(t, "started\nbye", p.Tail(2))

	res, err := Run(context.Background(), "sh", "-c", "echo out; echo err >&2; exit 3")
	require.NoError(t, err)
	require.Equal(t, Result{Stdout: "out\n", Stderr: "err\n", Code: 3}, res)
}
