package pgtest

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/pgbento/cdc/internal/pglocal"
)

func findBindir() (string, error) { return pglocal.FindBindir() }

type local struct{ s *pglocal.Server }

func startLocal(bindir string) (server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pglocal.Start(ctx, bindir, pglocal.Options{})
	if err != nil {
		return nil, fmt.Errorf("start local postgres: %w", err)
	}
	return &local{s: s}, nil
}

func (l *local) AdminDSN() string                  { return l.s.DSN("postgres") }
func (l *local) Restart(ctx context.Context) error { return l.s.Restart(ctx) }
func (l *local) Stop() error                       { return l.s.Stop() }

// dockerAvailable reports whether a Docker engine answers (the client alone
// is not enough).
func dockerAvailable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "info").Run() == nil
}

type container struct {
	c   *tcpostgres.PostgresContainer
	dsn string
}

func startContainer() (server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := tcpostgres.Run(ctx, "postgres:16-alpine",
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.WithDatabase("postgres"),
		testcontainers.WithCmd("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=64", "-c", "max_wal_senders=64", "-c", "fsync=off"),
		tcpostgres.BasicWaitStrategies(),
	)
	if err != nil {
		return nil, fmt.Errorf("start postgres container: %w", err)
	}
	dsn, err := c.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return nil, fmt.Errorf("container dsn: %w", err)
	}
	return &container{c: c, dsn: dsn}, nil
}

func (c *container) AdminDSN() string { return c.dsn }
func (c *container) Stop() error      { return testcontainers.TerminateContainer(c.c) }
func (c *container) Restart(ctx context.Context) error {
	timeout := 10 * time.Second
	if err := c.c.Stop(ctx, &timeout); err != nil {
		return err
	}
	return c.c.Start(ctx)
}
