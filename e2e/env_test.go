package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/pgtest"
)

// env is one test's world: a fresh database with the example schema, a
// stand-in Bento, and a config file for the cdc binary.
type env struct {
	t        *testing.T
	db       *pgtest.DB
	fake     *bentotest.Server
	dir      string
	cfgPath  string
	httpAddr string
	opts     envOptions
	runs     int // syncer processes started, for log file names
}

// envOptions are the knobs the tests turn; zero values take the defaults
// in newEnv.
type envOptions struct {
	BatchSize       int
	ShutdownTimeout time.Duration
	SourceExtra     string // more lines under source:
	BentoExtra      string // more lines under bento:
	ExtraRules      string // more list items under rules:
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.BatchSize == 0 {
		o.BatchSize = 100
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	db := pgtest.NewDB(t)
	db.Exec(t, examples.Schema)
	e := &env{t: t, db: db, fake: bentotest.NewServer(t), dir: t.TempDir(), httpAddr: freeAddr(t), opts: o}
	e.cfgPath = filepath.Join(e.dir, "cdc.yaml")
	require.NoError(t, os.WriteFile(e.cfgPath, []byte(e.config()), 0o600))
	return e
}

// config is the operational sections followed by the example rules, so
// line numbers of the rules shift but their text is the README's.
func (e *env) config() string {
	return fmt.Sprintf(`source:
  dsn: %q
  heartbeat: 1s
  status_interval: 1s
%s
bento:
  site_uuid: site-1
  transport: events_api
  publishable_key: pk-e2e
  secret_key: sk-e2e
  base_url: %q
  requests_per_minute: 0
  max_backoff: 1s
  timeout: 10s
  batch_size: %d
%s
http:
  addr: %s
log:
  level: info
  format: text
shutdown_timeout: %s
`, e.db.DSN, e.opts.SourceExtra, e.fake.URL, e.opts.BatchSize, e.opts.BentoExtra, e.httpAddr, e.opts.ShutdownTimeout) +
		examples.Rules + e.opts.ExtraRules
}

// freeAddr returns a loopback address nothing listens on right now. cdc run
// listens on exactly the configured address, so ":0" would not tell us where.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// cliResult is what a one-shot cdc command printed and how it exited.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// cli runs `cdc <args> --config <the env's file>`.
func (e *env) cli(args ...string) cliResult {
	e.t.Helper()
	return runCLI(e.t, append(args, "--config", e.cfgPath)...)
}

// runCLI runs the binary to completion (bounded, so a hang fails the test
// instead of the package's timeout).
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cdcBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		t.Fatalf("run cdc %s: %v", strings.Join(args, " "), err)
	}
	require.NoError(t, ctx.Err(), "cdc %s did not finish in time", strings.Join(args, " "))
	return res
}
