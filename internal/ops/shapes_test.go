package ops_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

// TestSetupSetsViaRootOnAnExistingPublication: issue 10.3. A publication
// made by hand without publish_via_partition_root for a partitioned table:
// check warns with the SQL, setup runs it, and check is then clean.
func TestSetupSetsViaRootOnAnExistingPublication(t *testing.T) {
	e := pipelinetest.NewEnvWith(t, pipelinetest.PartitionedSchema(), pipelinetest.PurchaseRule(), "")
	ctx := context.Background()
	e.DB.Exec(t, `CREATE PUBLICATION cdc_bento FOR TABLE orders`)
	want := `ALTER PUBLICATION "cdc_bento" SET (publish_via_partition_root = true);`

	fs, err := ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	require.Contains(t, findingsText(fs), "warn "+`publication "cdc_bento" lacks publish_via_partition_root`)
	require.Contains(t, findingsText(fs), want)

	res, err := ops.Setup(ctx, e.Cfg)
	require.NoError(t, err)
	require.Contains(t, res.Ran, want)
	fs, err = ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	require.NotContains(t, findingsText(fs), "publish_via_partition_root")
}

// Finding U3: a partitioned table whose rules read old: each partition
// sends its own old rows, so check reads every partition's replica
// identity and gives the ALTER TABLE for each one lacking FULL (and the
// parent), not runnable until none lacks it.
func TestCheckReplicaIdentityOfEveryPartition(t *testing.T) {
	e := pipelinetest.NewEnvWith(t, pipelinetest.PartitionedSchema()+`
CREATE TABLE orders_2 PARTITION OF orders FOR VALUES FROM (100) TO (200);
ALTER TABLE orders REPLICA IDENTITY DEFAULT;`, pipelinetest.PurchaseRule(), "")
	ctx := context.Background()
	fs, err := ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	text := findingsText(fs)
	require.False(t, ops.Runnable(fs), text)
	require.Contains(t, text, "error table public.orders has REPLICA IDENTITY DEFAULT but rules purchase_on_paid")
	require.Contains(t, text, "| ALTER TABLE public.orders REPLICA IDENTITY FULL;")
	require.Contains(t, text, "error partition public.orders_2 of public.orders has REPLICA IDENTITY DEFAULT but rules purchase_on_paid")
	require.Contains(t, text, "| ALTER TABLE public.orders_2 REPLICA IDENTITY FULL;")
	require.NotContains(t, text, "orders_1", "orders_1 has FULL")

	e.DB.Exec(t, `ALTER TABLE orders REPLICA IDENTITY FULL`)
	fs, err = ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	require.Contains(t, findingsText(fs), "| ALTER TABLE public.orders_2 REPLICA IDENTITY FULL;")
	require.False(t, ops.Runnable(fs), "a partition still lacks FULL")

	e.DB.Exec(t, `ALTER TABLE orders_2 REPLICA IDENTITY FULL`)
	fs, err = ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	require.NotContains(t, findingsText(fs), "REPLICA IDENTITY")
}
