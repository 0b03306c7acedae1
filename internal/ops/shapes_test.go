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
