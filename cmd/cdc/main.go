// Command cdc streams row changes from Postgres to Bento as events. It is
// the CLI only: flags, config loading, signals, wiring, printing and exit
// codes. The running syncer is internal/pipeline, the operator commands are
// internal/ops; everything a test would want to reach lives under internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pgbento/cdc/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a runtime failure
	exitConfig  = 2 // the config file is invalid; nothing was connected
	exitProblem = 3 // check found problems
)

// exitError carries an exit code up to main.
type exitError struct {
	code   int
	err    error
	logged bool // already in the logs: printing it again would put a plain line among JSON ones
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	notices := &signalNotices{}
	ctx, stop := signalContext(notices)
	defer stop()
	root := newRoot(notices)
	err := root.ExecuteContext(ctx)
	if err == nil {
		os.Exit(exitOK)
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: exitFailure, err: err}
	}
	if !ee.logged {
		fmt.Fprintln(os.Stderr, "cdc:", err)
	}
	os.Exit(ee.code)
}

// tuneGC, for `cdc run`, trades some memory for much less garbage
// collection: with the default GOGC=100 the collector took about 15% of the
// syncer's CPU in the backlog benchmark, and GOGC=300 raised throughput by
// a third at under 50 MiB peak RSS (docs/benchmarks.md). The soft memory
// limit is a safety net well above that, not a target. GOGC and GOMEMLIMIT
// in the environment take precedence.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
}

// signalContext ends the context on the first SIGINT/SIGTERM (graceful
// shutdown) and exits the process at once on the second; notices says so.
func signalContext(notices *signalNotices) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		notices.say(sig, "shutting down (send again to exit at once)")
		cancel()
		sig = <-ch
		notices.say(sig, "second signal: exiting now")
		os.Exit(exitFailure)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// signalNotices tells the operator about a signal: through the command's
// logger once it has one (so JSON logs stay JSON), else on stderr.
type signalNotices struct{ log atomic.Pointer[slog.Logger] }

func (n *signalNotices) use(log *slog.Logger) { n.log.Store(log) }

func (n *signalNotices) say(sig os.Signal, msg string) {
	if log := n.log.Load(); log != nil {
		log.Warn(msg, "signal", sig.String())
		return
	}
	fmt.Fprintf(os.Stderr, "cdc: %s: %s\n", sig, msg)
}

func newRoot(notices *signalNotices) *cobra.Command {
	root := &cobra.Command{
		Use:           "cdc",
		Short:         "Stream Postgres row changes to Bento as events",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().StringP("config", "c", "cdc.yaml", "config file")
	root.AddCommand(newRunCmd(notices), newCheckCmd(), newSetupCmd(), newStatusCmd(), newDLQCmd(),
		newPreviewCmd(), newBackfillCmd(), newDemoCmd(), newBenchCmd(), newLogCmd(), newReconcileCmd())
	return root
}

// loadConfig loads --config; a bad file is exit code 2.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: exitConfig, err: err}
	}
	return cfg, nil
}
