// Command cdc streams row changes from Postgres to Bento as events. This
// file holds the CLI only: flags, config loading, signals, wiring and exit
// codes. Everything a test would want to reach lives under internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
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
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signalContext()
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "cdc:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(exitFailure)
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
// shutdown) and exits the process at once on the second.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "cdc: %s: shutting down (send again to exit at once)\n", sig)
		cancel()
		<-ch
		fmt.Fprintln(os.Stderr, "cdc: second signal: exiting now")
		os.Exit(exitFailure)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "cdc",
		Short:         "Stream Postgres row changes to Bento as events",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().StringP("config", "c", "cdc.yaml", "config file")
	root.AddCommand(newRunCmd(), newCheckCmd(), newSetupCmd(), newStatusCmd(), newDLQCmd(),
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

// newLogger builds the process logger from the config's log section.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
