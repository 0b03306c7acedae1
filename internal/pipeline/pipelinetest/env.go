// Package pipelinetest is the test world of the running syncer, shared by
// the tests of pipeline and ops: a fresh database with the example schema,
// a stand-in Bento and a config for both. It owns no behaviour of its own.
package pipelinetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/configtext"
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
	return NewEnvWith(t, examples.Schema, examples.Rules, extra)
}

// NewEnvWith is NewEnv over another schema and rules section.
func NewEnvWith(t *testing.T, schema, rules, extra string) *Env {
	t.Helper()
	return NewEnvOn(t, pgtest.NewDB(t), schema, rules, extra)
}

// NewEnvOn is NewEnvWith on a database the test made itself (a server
// with settings of its own).
func NewEnvOn(t *testing.T, db *pgtest.DB, schema, rules, extra string) *Env {
	t.Helper()
	db.Exec(t, schema)
	fake := bentotest.NewServer(t)
	src := configtext.File{
		Rules: rules, RulesFirst: true,
		DSN: db.DSN, Heartbeat: time.Second, StatusInterval: time.Second,
		SiteUUID: "site-1", BentoURL: fake.URL, MaxBackoff: time.Second,
		Transport: "events_api", PublishableKey: "pk-test", SecretKey: "sk-test", // $change_email needs it
		ShutdownTimeout: 5 * time.Second, Extra: extra,
	}.YAML()
	cfg, err := config.Parse("test.yaml", []byte(src))
	require.NoError(t, err)
	return &Env{DB: db, Fake: fake, Cfg: cfg}
}

// PurchaseRule is the example rules' defaults and their first rule alone,
// purchase_on_paid, whose only lookup reads customers.
func PurchaseRule() string {
	return examples.Rules[:strings.Index(examples.Rules, "  # A refund")]
}

// PartitionedSchema is the example schema with orders partitioned by id
// (one partition, orders_1, for ids 1 to 99, with REPLICA IDENTITY FULL).
func PartitionedSchema() string {
	return strings.Replace(examples.Schema, "    refunded_at timestamptz\n);", "    refunded_at timestamptz\n) PARTITION BY RANGE (id);\n"+
		"CREATE TABLE orders_1 PARTITION OF orders FOR VALUES FROM (1) TO (100);", 1) +
		"\nALTER TABLE orders_1 REPLICA IDENTITY FULL;"
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
