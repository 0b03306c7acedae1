// Package cdcproc runs the cdc binary as a subprocess, for the end-to-end
// tests and the benchmark: a long-running process (Start) with its output
// in a log file, or a one-shot command (Run) with its output captured. It
// owns starting, waiting, signalling and reading the process's /proc
// status; not what the process does or how a caller judges it.
package cdcproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one running process.
type Proc struct {
	cmd     *exec.Cmd
	logPath string
	started time.Time
	done    chan struct{} // closed once it has exited and been reaped
	waitErr error         // valid after done
}

// Start runs argv with stdout and stderr going to the file logPath.
func Start(argv []string, logPath string) (*Proc, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	p := &Proc{cmd: exec.Command(argv[0], argv[1:]...), logPath: logPath, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// Started is when the process was started.
func (p *Proc) Started() time.Time { return p.started }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (nil: exit code 0); valid once Done.
func (p *Proc) Err() error { return p.waitErr }

// State is the exited process's state; nil while it runs.
func (p *Proc) State() *os.ProcessState { return p.cmd.ProcessState }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill sends SIGKILL and waits until the process is gone: no chance to
// flush, checkpoint or close anything.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Terminate sends SIGTERM and waits up to grace for the exit; after that it
// kills the process and returns an error. It returns how long the exit took.
func (p *Proc) Terminate(grace time.Duration) (time.Duration, error) {
	start := time.Now()
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return time.Since(start), nil
	case <-t.C:
		p.Kill()
		return time.Since(start), fmt.Errorf("did not exit within %s of SIGTERM", grace)
	}
}

// Logs is everything the process wrote so far.
func (p *Proc) Logs() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Tail is the last n lines of the log.
func (p *Proc) Tail(n int) string { return Tail(p.Logs(), n) }

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// MemoryBytes reads a memory field of /proc/<pid>/status ("VmRSS": resident
// now, "VmHWM": the peak so far) in bytes.
func (p *Proc) MemoryBytes(field string) (int64, error) {
	return memoryBytes(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid), field)
}

// memoryBytes reads field ("VmRSS:   1234 kB") of a /proc status file.
func memoryBytes(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in %s", field, path)
}

// Result is what a one-shot command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Run runs argv to completion; ctx bounds it. The error is only for a
// command that could not be run at all or did not finish within ctx; a
// non-zero exit is in Result.Code.
func Run(ctx context.Context, argv ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("run %s: did not finish in time: %w", strings.Join(argv, " "), ctx.Err())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		return res, fmt.Errorf("run %s: %w", strings.Join(argv, " "), err)
	}
	return res, nil
}
