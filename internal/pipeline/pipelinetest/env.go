// Package pipelinetest is the test world of the running syncer, shared by
// the tests of pipeline and ops: a fresh database with the example schema,
// a stand-in Bento and a config for both. It owns no behaviour of its own.
package pipelinetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pipeline"
)

// Env is one test's database, stand-in Bento and config.
type Env struct {
	DB   *pgtest.DB
	Fake *bentotest.Server
	Cfg  *config.Config
}

// NewEnv creates the database and the stand-in; extra is appended to the
// config file (top-level YAML).
func NewEnv(t *testing.T, extra string) *Env {
	t.Helper()
	return NewEnvOn(t, pgtest.NewDB(t), extra)
}

// NewEnvOn is NewEnv on a database the test made itself (a server with
// settings of its own).
func NewEnvOn(t *testing.T, db *pgtest.DB, extra string) *Env {
	t.Helper()
	db.Exec(t, examples.Schema)
	fake := bentotest.NewServer(t)
	src := examples.Rules + fmt.Sprintf(`
source:
  dsn: %q
  heartbeat: 1s
  status_interval: 1s
bento:
  site_uuid: site-1
  base_url: %q
  requests_per_minute: 0
  max_backoff: 1s
shutdown_timeout: 5s
%s`, db.DSN, fake.URL, extra)
	cfg, err := config.Parse("test.yaml", []byte(src))
	require.NoError(t, err)
	return &Env{DB: db, Fake: fake, Cfg: cfg}
}

// Start runs a syncer until the returned stop is called; stop returns
// Run's error.
func (e *Env) Start(t *testing.T) (stop func() error) {
	t.Helper()
	_, stop = e.StartWith(t, pipeline.Options{})
	return stop
}

// StartWith is Start with the syncer's options (Ready is set here); it
// also returns the running syncer.
func (e *Env) StartWith(t *testing.T, opts pipeline.Options) (s *pipeline.Syncer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	opts.Ready = func() { close(ready) }
	s = pipeline.New(e.Cfg, opts)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("syncer exited before streaming: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("syncer did not start streaming")
	}
	var stopped bool
	var runErr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return s, stop
}
