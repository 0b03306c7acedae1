package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/pgbento/cdc/internal/pgtest"
)

// cdcBin is the binary under test, built once by TestMain. It is set before
// any test runs and never changed.
var cdcBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binary (or takes CDC_E2E_BIN, e.g. a release build, as
// is) and runs the tests.
func run(m *testing.M) int {
	if bin := os.Getenv("CDC_E2E_BIN"); bin != "" {
		cdcBin = bin
		return leakCheck(pgtest.Main(m))
	}
	dir, err := os.MkdirTemp("", "cdc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cdcBin = filepath.Join(dir, "cdc")
	build := exec.Command("go", "build", "-o", cdcBin, "./cmd/cdc")
	build.Dir = ".." // the module root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build cdc:", err)
		return 1
	}
	return leakCheck(pgtest.Main(m))
}

// leakCheck fails a passing run that left goroutines behind (a watcher, a
// writer or a process waiter a test forgot to stop).
func leakCheck(code int) int {
	if code != 0 {
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: leaked goroutines:", err)
		return 1
	}
	return 0
}
