package replication

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func TestPreflight(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.mine (id int); CREATE TABLE public.secret (id int)`)
	ctx := context.Background()
	role, conn := h.newRole()
	h.db.Exec(t, `GRANT SELECT ON public.mine TO `+role)

	cfg := h.cfg
	cfg.Tables = []string{"public.mine", "public.secret", "public.missing"}
	admin, err := pgx.Connect(ctx, h.db.DSN)
	require.NoError(t, err)
	defer admin.Close(ctx)
	require.Empty(t, Preflight(ctx, admin, Config{Slot: cfg.Slot, Tables: []string{"public.mine"}}), "a superuser with existing tables")

	var whats []string
	for _, p := range Preflight(ctx, conn, cfg) {
		require.NotEmpty(t, p.Fix)
		whats = append(whats, p.What)
	}
	require.Len(t, whats, 3, strings.Join(whats, "\n"))
	require.Contains(t, whats[0], "lacks the REPLICATION privilege")
	require.Contains(t, whats[1], "lacks the SELECT privilege on table public.secret")
	require.Contains(t, whats[2], "table public.missing does not exist")
}

func TestEnsurePublicationAddsMissingTables(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.p1 (id int PRIMARY KEY); CREATE TABLE public.p2 (id int PRIMARY KEY)`, "public.p1")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)

	cfg := h.cfg
	cfg.Tables = []string{"public.p1", "public.p2"}
	created, sql, err := EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, `ALTER PUBLICATION "pub" ADD TABLE "public"."p2"`, sql)

	created, sql, err = EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	require.False(t, created)
	require.Empty(t, sql)

	cfg.Publication = "pub2"
	created, sql, err = EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, `CREATE PUBLICATION "pub2" FOR TABLE "public"."p1", "public"."p2"`, sql)

	created, err = EnsureSlot(ctx, h.cfg)
	require.NoError(t, err)
	require.False(t, created, "the slot already exists")
}

func TestRunStopsOnMissingSlot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.x (id int)`, "public.x")
	h.db.Exec(t, `SELECT pg_drop_replication_slot($1)`, h.cfg.Slot)
	r := NewReader(h.cfg, h.store, Options{})
	err := r.Run(context.Background(), make(chan stream.Change))
	require.Error(t, err)
	require.Contains(t, err.Error(), "does not exist")
}

// TestPublicationMembershipCountsAPartitionsParent: a partition whose
// partitioned parent is in the publication is published (pgoutput sends its
// changes), so neither check nor setup asks to add it; a table outside is
// reported, in the order given.
func TestPublicationMembershipCountsAPartitionsParent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.sales (id int, at date) PARTITION BY RANGE (at);
		CREATE TABLE public.sales_2024 PARTITION OF public.sales FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
		CREATE TABLE public.plain (id int PRIMARY KEY); CREATE TABLE public.outside (id int PRIMARY KEY)`,
		"public.sales", "public.plain")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)

	tables := []string{"public.outside", "public.sales_2024", "public.sales", "public.plain", "public.missing"}
	missing, err := NotPublished(ctx, conn, h.cfg.Publication, tables)
	require.NoError(t, err)
	require.Equal(t, []string{"public.outside", "public.missing"}, missing)

	cfg := h.cfg
	cfg.Tables = []string{"public.sales_2024", "public.plain"}
	created, sql, err := EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	require.False(t, created)
	require.Empty(t, sql, "the partition is published through its parent")
}

// TestNewPublicationPublishesViaPartitionRoot: a publication created for a
// partitioned table publishes through the root, so the partitions' changes
// arrive under the name the rules use.
func TestNewPublicationPublishesViaPartitionRoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.sales (id int, at date) PARTITION BY RANGE (at);
		CREATE TABLE public.sales_2024 PARTITION OF public.sales FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
		CREATE TABLE public.plain (id int PRIMARY KEY)`, "public.plain")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)

	parted, err := Partitioned(ctx, conn, []string{"public.plain", "public.sales", "public.missing"})
	require.NoError(t, err)
	require.Equal(t, []string{"public.sales"}, parted)
	cfg := h.cfg
	cfg.Publication, cfg.Tables = "viaroot", []string{"public.plain", "public.sales"}
	created, sql, err := EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, `CREATE PUBLICATION "viaroot" FOR TABLE "public"."plain", "public"."sales" WITH (publish_via_partition_root = true)`, sql)
	var viaRoot bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT pubviaroot FROM pg_publication WHERE pubname = 'viaroot'`).Scan(&viaRoot))
	require.True(t, viaRoot)
}
