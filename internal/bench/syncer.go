package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// rssPollEvery is how often the syncer's VmHWM is read. VmHWM is itself a
// high-water mark, so the interval only bounds how stale the last reading
// is; rusage after exit is the authoritative figure.
const rssPollEvery = 50 * time.Millisecond

// syncerProc is the syncer running as a subprocess.
type syncerProc struct {
	cmd     *exec.Cmd
	log     string // its stdout and stderr
	started time.Time
	exited  chan struct{} // closed once it has exited and been reaped
	waitErr error         // valid after exited
	polled  atomic.Int64  // largest VmHWM read, bytes
}

// startSyncer runs argv plus "--config config", output to dir/syncer.log.
func startSyncer(argv []string, config, dir string) (*syncerProc, error) {
	p := &syncerProc{log: filepath.Join(dir, "syncer.log"), exited: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		return nil, fmt.Errorf("create syncer log: %w", err)
	}
	p.cmd = exec.Command(argv[0], append(argv[1:], "--config", config)...)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start syncer %s: %w", argv[0], err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	go p.pollRSS()
	return p, nil
}

func (p *syncerProc) pollRSS() {
	t := time.NewTicker(rssPollEvery)
	defer t.Stop()
	path := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	for {
		if hwm, ok := readVmHWM(path); ok && hwm > p.polled.Load() {
			p.polled.Store(hwm)
		}
		select {
		case <-p.exited:
			return
		case <-t.C:
		}
	}
}

// readVmHWM returns the VmHWM line of a /proc status file in bytes.
func readVmHWM(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// stop sends SIGTERM (the syncer drains, checkpoints and exits 0) and waits;
// after grace it kills. It returns the peak RSS in bytes: the larger of the
// polled VmHWM and the kernel's rusage maxrss.
func (p *syncerProc) stop(grace time.Duration) (int64, error) {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.exited
			return p.peak(), fmt.Errorf("syncer did not exit within %s of SIGTERM", grace)
		}
	}
	if p.waitErr != nil {
		return p.peak(), fmt.Errorf("syncer: %w; last lines of its log:\n%s", p.waitErr, p.tail())
	}
	return p.peak(), nil
}

// cpu is the syncer's user and system CPU time, once it has exited.
func (p *syncerProc) cpu() time.Duration {
	if st := p.cmd.ProcessState; st != nil {
		return st.UserTime() + st.SystemTime()
	}
	return 0
}

func (p *syncerProc) peak() int64 {
	peak := p.polled.Load()
	if st := p.cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss*1024) // Linux reports kilobytes
		}
	}
	return peak
}

// tail is the end of the syncer's log, for error messages.
func (p *syncerProc) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
