package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgbento/cdc/internal/retry"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every
// Linux platform Go supports.
const clockTicks = 100

// selfCPU is this process's user and system CPU time so far: the
// stand-in's share of the machine during a drain.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads a process's user+system CPU time from /proc; false when it
// cannot (gone, another machine, no permission).
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces; fields are counted after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// walsenderCPU samples the CPU time of the walsender serving a slot: the
// server's share of the work (reading WAL, decoding, pgoutput). It works
// only when the server runs on this machine; otherwise it reports 0.
type walsenderCPU struct {
	mu   sync.Mutex
	cpu  map[int]time.Duration // last reading per walsender pid (a reconnect starts a new one)
	done chan struct{}
	stop context.CancelFunc
}

// sampleWalsender starts sampling slot's walsender every 20ms.
func sampleWalsender(ctx context.Context, db *database, slot string) *walsenderCPU {
	ctx, cancel := context.WithCancel(ctx)
	w := &walsenderCPU{cpu: map[int]time.Duration{}, done: make(chan struct{}), stop: cancel}
	go w.loop(ctx, db, slot)
	return w
}

func (w *walsenderCPU) loop(ctx context.Context, db *database, slot string) {
	defer close(w.done)
	pid := 0
	for retry.Sleep(ctx, 20*time.Millisecond) == nil {
		if pid == 0 {
			_ = db.pool.QueryRow(ctx, "SELECT coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&pid)
			continue
		}
		cpu, ok := procCPU(pid)
		if !ok {
			pid = 0 // gone: look for its successor
			continue
		}
		w.mu.Lock()
		w.cpu[pid] = cpu
		w.mu.Unlock()
	}
}

// total stops sampling and returns the CPU time seen, summed over pids.
func (w *walsenderCPU) total() time.Duration {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var sum time.Duration
	for _, c := range w.cpu {
		sum += c
	}
	return sum
}

// loadavg is the machine's 1, 5 and 15 minute load averages: the
// benchmark shares the CPUs with whatever else runs, and says so.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
