package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// recvlogical finds pg_recvlogical in bindir; "" when it is not there.
func recvlogical(bindir string) string {
	p := filepath.Join(bindir, "pg_recvlogical")
	if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// runRecvlogical drains slot with pgoutput into /dev/null up to endpos
// and returns how long it took and the CPU time it used. pg_recvlogical asks for nothing but the
// raw protocol messages: this is the server's decoding speed plus a
// client that does no work, the ceiling any pgoutput consumer can reach.
func runRecvlogical(ctx context.Context, bin, dsn, slot, endpos string) (took, cpu time.Duration, err error) {
	cmd := exec.CommandContext(ctx, bin, "-d", dsn, "--slot", slot, "--start", "--no-loop",
		"-o", "proto_version=1", "-o", "publication_names="+publication,
		"-f", "/dev/null", "--endpos", endpos)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("pg_recvlogical: %w: %s", err, strings.TrimSpace(out.String()))
	}
	took = time.Since(start)
	return took, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}
