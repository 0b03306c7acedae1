package ops_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pglocal"
)

// TestSetupOnWalLevelReplicaReportsWhatRan: on a server with
// wal_level=replica, setup creates the syncer's schema (it does not depend
// on wal_level), reports exactly that, leaves publication and slot, and
// lists the wal_level problem (issue 15.7).
func TestSetupOnWalLevelReplicaReportsWhatRan(t *testing.T) {
	bindir, err := pglocal.FindBindir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Postgres binaries: %v", err)
		}
		t.Skipf("no Postgres binaries: %v", err)
	}
	ctx := context.Background()
	srv, err := pglocal.Start(ctx, bindir, pglocal.Options{Settings: map[string]string{"wal_level": "replica"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	dsn := srv.DSN("postgres")
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, examples.Schema)
	require.NoError(t, err)
	cfg, err := config.Parse("test.yaml", []byte(examples.Rules+fmt.Sprintf(`
source:
  dsn: %q
bento:
  site_uuid: site-1
`, dsn)))
	require.NoError(t, err)

	res, err := ops.Setup(ctx, cfg)
	require.NoError(t, err)
	requireRan(t, res.Ran, "CREATE SCHEMA cdc;")
	require.False(t, ops.Runnable(res.Others))
	require.Contains(t, findingsText(res.Others), `wal_level is "replica"`)
	var schemas, pubs, slots int
	require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'cdc'),
		(SELECT count(*) FROM pg_publication), (SELECT count(*) FROM pg_replication_slots)`).Scan(&schemas, &pubs, &slots))
	require.Equal(t, []int{1, 0, 0}, []int{schemas, pubs, slots}, "what ran is what setup reported")

	res, err = ops.Setup(ctx, cfg)
	require.NoError(t, err)
	require.Empty(t, res.Ran, "nothing more runs while wal_level is replica")
}
