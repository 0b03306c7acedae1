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
	role := "r_" + h.cfg.Slot[:min(len(h.cfg.Slot), 40)]
	h.db.Exec(t, `CREATE ROLE `+role+` LOGIN PASSWORD 'pw'`)
	h.db.Exec(t, `GRANT SELECT ON public.mine TO `+role)
	t.Cleanup(func() {
		_, _ = h.db.Pool.Exec(ctx, `DROP OWNED BY `+role)
		_, _ = h.db.Pool.Exec(ctx, `DROP ROLE `+role)
	})

	cfg := h.cfg
	cfg.Tables = []string{"public.mine", "public.secret", "public.missing"}
	admin, err := pgx.Connect(ctx, h.db.DSN)
	require.NoError(t, err)
	defer admin.Close(ctx)
	require.Empty(t, Preflight(ctx, admin, Config{Slot: cfg.Slot, Tables: []string{"public.mine"}}), "a superuser with existing tables")

	pc, err := pgx.ParseConfig(h.db.DSN)
	require.NoError(t, err)
	pc.User, pc.Password = role, "pw"
	conn, err := pgx.ConnectConfig(ctx, pc)
	require.NoError(t, err)
	defer conn.Close(ctx)
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

	created, _, err = EnsureSlot(ctx, h.cfg)
	require.NoError(t, err)
	require.False(t, created, "the slot already exists")
}

func TestRunStopsOnMissingSlot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.x (id int)`, "public.x")
	h.db.Exec(t, `SELECT pg_drop_replication_slot($1)`, h.cfg.Slot)
	r := NewReader(h.cfg, h.store, nil, nil)
	err := r.Run(context.Background(), make(chan stream.Change))
	require.Error(t, err)
	require.Contains(t, err.Error(), "does not exist")
}
