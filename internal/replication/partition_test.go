package replication

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/logtest"
)

const salesDDL = `CREATE TABLE public.sales (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
	CREATE TABLE public.sales_2024 PARTITION OF public.sales FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`

// TestExistingPublicationGetsViaRoot (issue 10.3): an existing publication
// without publish_via_partition_root is given it when a watched table is
// partitioned and the role owns it; a role that does not gets an error
// with the SQL, never silence.
func TestExistingPublicationGetsViaRoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, salesDDL+`; CREATE PUBLICATION pub FOR TABLE public.sales`, "public.sales")
	ctx := context.Background()
	var viaRoot bool
	require.NoError(t, h.db.Pool.QueryRow(ctx, `SELECT pubviaroot FROM pg_publication WHERE pubname = 'pub'`).Scan(&viaRoot))
	require.True(t, viaRoot, "the harness's EnsurePublication (as setup and run) set it")

	h.db.Exec(t, `ALTER PUBLICATION pub SET (publish_via_partition_root = false)`)
	_, conn := h.newRole()
	_, _, err := EnsurePublication(ctx, conn, h.cfg)
	require.Error(t, err)
	require.Contains(t, err.Error(), `its owner runs ALTER PUBLICATION "pub" SET (publish_via_partition_root = true);`)
}

// TestPartitionChangesWithoutViaRootMapToTheRoot (issue 10.3): a change
// that arrives under a partition's name (the publication lacks
// publish_via_partition_root) is matched to the watched partitioned table
// by relation OID, with a warning naming the fix, never dropped.
func TestPartitionChangesWithoutViaRootMapToTheRoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, salesDDL, "public.sales")
	h.db.Exec(t, `ALTER PUBLICATION pub SET (publish_via_partition_root = false)`)
	logs := &logtest.Buffer{}
	h.startLogging(slog.New(slog.NewTextHandler(logs, nil)))
	requireSale(t, h, `INSERT INTO public.sales VALUES (1, '2024-03-01')`, 1)
	require.Contains(t, logs.String(), "partition=public.sales_2024")
	require.Contains(t, logs.String(), `fix="ALTER PUBLICATION pub SET (publish_via_partition_root = true);"`)

	// A table attached later is found the same way.
	requireSale(t, h, `CREATE TABLE public.sales_2025 (id int NOT NULL, at date NOT NULL);
		ALTER TABLE public.sales ATTACH PARTITION public.sales_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
		INSERT INTO public.sales VALUES (2, '2025-03-01')`, 2)
}

// TestViaRootPartitionRelationIsNoWarning (finding U4): with
// publish_via_partition_root, PG15's pgoutput sends a Relation message for
// the partition as well as the root, while the changes arrive under the
// root. That alone is no reason to warn: the warning waits for a change
// that actually arrives under the partition's name.
func TestViaRootPartitionRelationIsNoWarning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, salesDDL, "public.sales")
	logs := &logtest.Buffer{}
	h.startLogging(slog.New(slog.NewTextHandler(logs, nil)))
	requireSale(t, h, `INSERT INTO public.sales VALUES (1, '2024-03-01')`, 1)
	requireSale(t, h, `UPDATE public.sales SET id = 2 WHERE id = 1`, 2)
	require.NotContains(t, logs.String(), "arrive under its own name")
	require.NotContains(t, logs.String(), "level=WARN")
}

// requireSale runs sql and requires its transaction to be one change of
// public.sales (the partitioned table's name) whose new row has id.
func requireSale(t *testing.T, h *harness, sql string, id int) {
	t.Helper()
	h.db.Exec(t, sql)
	changes, _ := h.tx()
	require.Len(t, changes, 1)
	require.Equal(t, "public.sales", changes[0].Table)
	require.EqualValues(t, id, changes[0].New["id"])
}

// TestRenamedTableKeepsItsIdentity (issue 10.4): a watched table renamed
// while the reader runs arrives under its new name and is matched to the
// name the config uses, with a warning; once the config names the new
// name, WAL from before the rename (old name) is matched to it too.
func TestRenamedTableKeepsItsIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.orders (id int PRIMARY KEY)`, "public.orders")
	logs := &logtest.Buffer{}
	h.startLogging(slog.New(slog.NewTextHandler(logs, nil)))
	h.db.Exec(t, `INSERT INTO public.orders VALUES (1)`)
	changes, _ := h.tx()
	require.Equal(t, "public.orders", changes[0].Table)

	h.db.Exec(t, `ALTER TABLE public.orders RENAME TO orders_v2`)
	h.db.Exec(t, `INSERT INTO public.orders_v2 VALUES (2)`)
	changes, _ = h.tx()
	require.Equal(t, "public.orders", changes[0].Table)
	require.EqualValues(t, 2, changes[0].New["id"])
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "table=public.orders arrives_as=public.orders_v2")
	h.stop() // nothing acknowledged: a new reader reads both transactions again

	h.cfg.Tables = []string{"public.orders_v2"}
	h.start()
	for _, id := range []int{1, 2} {
		changes, _ = h.tx()
		require.Equal(t, "public.orders_v2", changes[0].Table, "WAL from before the rename names public.orders")
		require.EqualValues(t, id, changes[0].New["id"])
	}
}

// newRole creates a login role with no privileges, dropped after the test,
// and a connection as that role.
func (h *harness) newRole() (string, *pgx.Conn) {
	h.t.Helper()
	ctx := context.Background()
	role := "r_" + h.cfg.Slot[:min(len(h.cfg.Slot), 40)]
	h.db.Exec(h.t, `CREATE ROLE `+role+` LOGIN PASSWORD 'pw'`)
	pc, err := pgx.ParseConfig(h.db.DSN)
	require.NoError(h.t, err)
	pc.User, pc.Password = role, "pw"
	conn, err := pgx.ConnectConfig(ctx, pc)
	require.NoError(h.t, err)
	h.t.Cleanup(func() {
		_ = conn.Close(ctx)
		_, _ = h.db.Pool.Exec(ctx, `DROP OWNED BY `+role)
		_, _ = h.db.Pool.Exec(ctx, `DROP ROLE `+role)
	})
	return role, conn
}
