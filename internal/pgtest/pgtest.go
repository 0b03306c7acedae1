// Package pgtest gives tests a real, throwaway Postgres with
// wal_level=logical. It owns starting and stopping that server and handing
// each test a fresh database; it knows nothing about the syncer.
//
// Where the server comes from, first match wins:
//
//  1. CDC_TEST_DSN: an existing server (a superuser DSN; wal_level must be
//     logical). Restart is not available.
//  2. Local server binaries (pg_config --bindir, /usr/lib/postgresql/*/bin,
//     PATH): initdb into a temp dir, a free port, a private socket dir. As
//     root the server runs as the unprivileged "postgres" user.
//  3. Docker, through testcontainers-go, when a Docker engine answers.
//
// With none of them the tests skip, except under CI=true, where they fail:
// a CI run without Postgres must not pass.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/migrations"
)

// server is what each backend provides.
type server interface {
	// AdminDSN is a superuser DSN for the database "postgres".
	AdminDSN() string
	// Restart stops and starts the server; existing connections break.
	Restart(ctx context.Context) error
	Stop() error
}

var (
	once     sync.Once
	srv      server
	startErr error
	inMain   bool // Main runs the tests: it stops the server afterwards
)

// Main runs the package's tests and stops the server afterwards. Use it from
// TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	inMain = true
	code := m.Run()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop server:", err)
		}
	}
	return code
}

func get(t testing.TB) server {
	t.Helper()
	if !inMain {
		// Without it nothing stops the server: one Postgres left running
		// per test run.
		t.Fatal("pgtest: the package's TestMain must be func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }")
	}
	once.Do(func() { srv, startErr = start() })
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: no Postgres for the tests (CI=true makes this a failure): %v", startErr)
		}
		t.Skipf("pgtest: no Postgres: %v", startErr)
	}
	return srv
}

func start() (server, error) {
	if dsn := os.Getenv("CDC_TEST_DSN"); dsn != "" {
		return &external{dsn: dsn}, nil
	}
	bindir, binErr := findBindir()
	if binErr == nil {
		return startLocal(bindir)
	}
	if dockerAvailable() {
		return startContainer()
	}
	return nil, fmt.Errorf("%w; no Docker engine either; install the server (apt-get install -y postgresql) or set CDC_TEST_DSN", binErr)
}

// DB is one fresh database on the test server.
type DB struct {
	Name string
	DSN  string
	Pool *pgxpool.Pool
}

// Exec runs sql or fails the test.
func (d *DB) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := d.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// Migrate applies the syncer's migrations to schema, as cdc run does.
func (d *DB) Migrate(t testing.TB, schema string) {
	t.Helper()
	conn, err := d.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	defer conn.Release()
	if err := migrations.Apply(context.Background(), conn.Conn(), schema); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
}

// WaitSlotReleased waits until no backend holds slot: a walsender ends on
// its own time after its client (a stopped syncer) left, and until then
// the slot is active and cannot be dropped or read as a stopped syncer's.
func (d *DB) WaitSlotReleased(t testing.TB, slot string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var active bool
		err := d.Pool.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots
			WHERE slot_name = $1 AND database = current_database()`, slot).Scan(&active)
		if err != nil {
			t.Fatalf("pgtest: read slot %s: %v", slot, err)
		}
		if !active {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgtest: slot %s still active after 30s", slot)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDB creates a fresh database for t and drops it (and its replication
// slots) when the test ends.
func NewDB(t testing.TB) *DB {
	t.Helper()
	s := get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := dbName(t.Name())
	admin, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dsn := WithDatabase(s.AdminDSN(), name)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		dropDB(s.AdminDSN(), name)
	})
	return &DB{Name: name, DSN: dsn, Pool: pool}
}

func dbName(testName string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := nonIdent.ReplaceAllString(strings.ToLower(testName), "_")
	if len(n) > 40 {
		n = n[:40]
	}
	return "t_" + n + "_" + hex.EncodeToString(b[:])
}

// dropDB removes the database and any slots in it. Best effort: a leftover
// database in a throwaway server is harmless.
func dropDB(adminDSN, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	// A walsender ends on its own time after its client left or was
	// terminated; an active slot cannot be dropped, so wait for it.
	for ctx.Err() == nil {
		var active bool
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(active_pid)) > 0 FROM pg_replication_slots
			WHERE database = $1 AND active_pid IS NOT NULL`, name).Scan(&active)
		if err != nil || !active {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, _ = admin.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, name)
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

// WithDatabase returns dsn (a URL or keyword/value string) pointed at db.
func WithDatabase(dsn, db string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return dsn
	}
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable",
		cfg.Host, cfg.Port, cfg.User, quoteValue(cfg.Password), db)
}

func quoteValue(s string) string {
	if s == "" {
		return "''"
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Restart restarts the shared server. Tests using it must not run in
// parallel with tests that cannot tolerate broken connections; in practice,
// call it only from tests without t.Parallel in a package whose other tests
// reconnect too.
func Restart(t testing.TB) {
	t.Helper()
	s := get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

// AdminDSN returns a superuser DSN to the "postgres" database.
func AdminDSN(t testing.TB) string {
	t.Helper()
	return get(t).AdminDSN()
}

type external struct{ dsn string }

func (e *external) AdminDSN() string { return e.dsn }
func (e *external) Stop() error      { return nil }
func (e *external) Restart(context.Context) error {
	return fmt.Errorf("restart not possible with CDC_TEST_DSN")
}
