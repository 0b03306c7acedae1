package e2e

import (
	"cmp"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/cdcproc"
	"github.com/pgbento/cdc/internal/configtext"
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
	User            string // connect as this role instead of the superuser
	LogLevel        string // default info
	LogFormat       string // default text
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.BatchSize == 0 {
		o.BatchSize = 100
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	o.LogLevel = cmp.Or(o.LogLevel, "info")
	o.LogFormat = cmp.Or(o.LogFormat, "text")
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
	return configtext.File{
		DSN: e.sourceDSN(), Heartbeat: time.Second, StatusInterval: time.Second, SourceExtra: e.opts.SourceExtra,
		SiteUUID: "site-1", BentoURL: e.fake.URL, MaxBackoff: time.Second, Timeout: 10 * time.Second,
		BatchSize: e.opts.BatchSize, BentoExtra: e.opts.BentoExtra,
		HTTPAddr: e.httpAddr, LogLevel: e.opts.LogLevel, LogFormat: e.opts.LogFormat, ShutdownTimeout: e.opts.ShutdownTimeout,
		Rules: examples.Rules + e.opts.ExtraRules,
	}.YAML()
}

// sourceDSN is the test database's DSN, as opts.User when set.
func (e *env) sourceDSN() string {
	if e.opts.User == "" {
		return e.db.DSN
	}
	return regexp.MustCompile(`\buser=\S+`).ReplaceAllString(e.db.DSN, "user="+e.opts.User)
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

// cli runs `cdc <args> --config <the env's file>`.
func (e *env) cli(args ...string) cdcproc.Result {
	e.t.Helper()
	return runCLI(e.t, append(args, "--config", e.cfgPath)...)
}

// runCLI runs the binary to completion (bounded, so a hang fails the test
// instead of the package's timeout).
func runCLI(t *testing.T, args ...string) cdcproc.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := cdcproc.Run(ctx, append([]string{cdcBin}, args...)...)
	require.NoError(t, err)
	return res
}
