package bench

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pgbento/cdc/internal/cdcproc"
)

// rssPollEvery is how often the syncer's VmHWM is read. VmHWM is itself a
// high-water mark, so the interval only bounds how stale the last reading
// is; rusage after exit is the authoritative figure.
const rssPollEvery = 50 * time.Millisecond

// syncerProc is the syncer running as a subprocess.
type syncerProc struct {
	*cdcproc.Proc
	started time.Time
	polled  atomic.Int64 // largest VmHWM read, bytes
}

// startSyncer runs argv plus "--config config", output to dir/syncer.log.
func startSyncer(argv []string, config, dir string) (*syncerProc, error) {
	argv = append(append([]string(nil), argv...), "--config", config)
	proc, err := cdcproc.Start(argv, filepath.Join(dir, "syncer.log"))
	if err != nil {
		return nil, fmt.Errorf("start syncer: %w", err)
	}
	p := &syncerProc{Proc: proc, started: proc.Started()}
	go p.pollRSS()
	return p, nil
}

func (p *syncerProc) pollRSS() {
	t := time.NewTicker(rssPollEvery)
	defer t.Stop()
	for {
		if hwm, err := p.MemoryBytes("VmHWM"); err == nil && hwm > p.polled.Load() {
			p.polled.Store(hwm)
		}
		select {
		case <-p.Done():
			return
		case <-t.C:
		}
	}
}

// stop sends SIGTERM (the syncer drains, checkpoints and exits 0) and waits;
// after grace it kills. It returns the peak RSS in bytes: the larger of the
// polled VmHWM and the kernel's rusage maxrss.
func (p *syncerProc) stop(grace time.Duration) (int64, error) {
	if _, err := p.Terminate(grace); err != nil {
		return p.peak(), fmt.Errorf("syncer %w", err)
	}
	if err := p.Err(); err != nil {
		return p.peak(), fmt.Errorf("syncer: %w; last lines of its log:\n%s", err, p.tail())
	}
	return p.peak(), nil
}

// cpu is the syncer's user and system CPU time, once it has exited.
func (p *syncerProc) cpu() time.Duration {
	if st := p.State(); st != nil {
		return st.UserTime() + st.SystemTime()
	}
	return 0
}

func (p *syncerProc) peak() int64 {
	peak := p.polled.Load()
	if st := p.State(); st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss*1024) // Linux reports kilobytes
		}
	}
	return peak
}

// tail is the end of the syncer's log, for error messages.
func (p *syncerProc) tail() string { return p.Tail(15) }
