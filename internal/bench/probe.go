package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sync"
	"time"
)

// probeSlot is the steady mode's second slot, with test_decoding so
// pg_recvlogical prints one text line per change.
const probeSlot = slotPrefix + "_probe"

// probeID finds the order id in a test_decoding INSERT line:
// "table cdc_bench.orders: INSERT: id[bigint]:42 customer_id[bigint]:...".
var probeID = regexp.MustCompile(`^table cdc_bench\.orders: INSERT: id\[bigint\]:(\d+) `)

// probe runs pg_recvlogical on probeSlot beside the syncer and notes when
// each order's line arrives. pg_recvlogical writes every message as it
// gets it, so that time is the commit-to-consumer latency of a client
// that does no work, on this machine at the same moment: the floor under
// the syncer's latency, shared noise included.
type probe struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	times map[string]time.Time
	done  chan struct{} // closed when the output ends
}

func startProbe(bin, dsn string) (*probe, error) {
	p := &probe{times: map[string]time.Time{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "-d", dsn, "--slot", probeSlot, "--start", "--no-loop", "-F", "0", "-s", "1", "-f", "-")
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start probe pg_recvlogical: %w", err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := probeID.FindSubmatch(sc.Bytes()); m != nil {
				p.mu.Lock()
				p.times[string(m[1])] = time.Now()
				p.mu.Unlock()
			}
		}
	}()
	return p, nil
}

// waitFor returns once n orders have arrived or ctx ends.
func (p *probe) waitFor(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		got := len(p.times)
		p.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("probe pg_recvlogical exited after %d of %d orders", got, n)
		case <-ctx.Done():
			return fmt.Errorf("probe waiting for %d orders (%d arrived): %w", n, got, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *probe) receivedAt(key string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.times[key]
	return t, ok
}

// stop ends pg_recvlogical (it stops on SIGINT/SIGTERM) and reaps it.
func (p *probe) stop() {
	_ = p.cmd.Process.Kill()
	<-p.done
	_ = p.cmd.Wait()
}
