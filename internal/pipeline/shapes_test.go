package pipeline_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/logtest"
	"github.com/pgbento/cdc/internal/ops"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

// TestRenamedTableIsFollowedByIdentity: issue 10.4. A watched table renamed
// while the syncer runs sends its changes under the new name; they must
// still reach the rules that name the table (matched by relation OID), with
// a warning naming both names, never be ignored.
func TestRenamedTableIsFollowedByIdentity(t *testing.T) {
	// Only the purchase rule: the example's other rules have lookups whose
	// SQL names orders, which a rename breaks (visibly: the stream holds).
	e := newEnvWith(t, examples.Schema, pipelinetest.PurchaseRule(), "")
	logs := &logtest.Buffer{}
	e.StartWith(t, pipeline.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 5.00, now())`)
	e.waitTotal(t, "ann@example.com", 500)

	e.DB.Exec(t, `ALTER TABLE orders RENAME TO orders_v2`)
	e.DB.Exec(t, `INSERT INTO orders_v2 (customer_id, status, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
	e.waitTotal(t, "ann@example.com", 1500)
	require.Equal(t, 1, logs.Count(`level=WARN msg="a watched table's changes arrive under another name (renamed)`))
	require.Equal(t, 1, logs.Count("table=public.orders arrives_as=public.orders_v2"))
}

// TestPartitionedTable: issue 10.3. With a publication made by hand without
// publish_via_partition_root, check says so with the SQL and run sets it;
// then the rules on the partitioned table see its partitions' changes,
// also of a partition attached while the syncer runs, and the first-start
// backfill (which reads the parent) and the stream agree on a row.
func TestPartitionedTable(t *testing.T) {
	e := newEnvWith(t, pipelinetest.PartitionedSchema(), pipelinetest.PurchaseRule(), "backfill:\n  on_create: true\n")
	ctx := context.Background()
	e.DB.Exec(t, `INSERT INTO customers (email) VALUES ('ann@example.com');
		INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 5.00, '2026-01-02T03:04:05Z');
		CREATE PUBLICATION cdc_bento FOR TABLE customers, orders`)

	fs, err := ops.Check(ctx, e.Cfg)
	require.NoError(t, err)
	var text string
	for _, f := range fs {
		text += string(f.Severity) + " " + f.What + " | " + f.SQL + "\n"
	}
	require.Contains(t, text, `warn publication "cdc_bento" lacks publish_via_partition_root`)
	require.Contains(t, text, `ALTER PUBLICATION "cdc_bento" SET (publish_via_partition_root = true);`)
	require.NotContains(t, text, "lacks tables")

	e.Start(t)
	var viaRoot bool
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT pubviaroot FROM pg_publication WHERE pubname = 'cdc_bento'`).Scan(&viaRoot))
	require.True(t, viaRoot, "run sets publish_via_partition_root")
	e.waitTotal(t, "ann@example.com", 500) // the backfill read the parent

	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
	e.waitTotal(t, "ann@example.com", 1500)

	e.DB.Exec(t, `CREATE TABLE orders_2 (LIKE orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
		ALTER TABLE orders ATTACH PARTITION orders_2 FOR VALUES FROM (100) TO (200);
		INSERT INTO orders (id, customer_id, status, total, paid_at) VALUES (150, 1, 'paid', 20.00, now())`)
	e.waitTotal(t, "ann@example.com", 3500)

	// The stream sends order 1 again; its event must equal the backfill's.
	e.DB.Exec(t, `UPDATE orders SET status = 'pending' WHERE id = 1; UPDATE orders SET status = 'paid' WHERE id = 1`)
	var ones []map[string]any
	require.Eventually(t, func() bool {
		ones = ones[:0]
		for _, ev := range e.Fake.Received() {
			if ev.Type == "$purchase" && ev.Details["unique"].(map[string]any)["key"] == "1" {
				ones = append(ones, map[string]any{"details": ev.Details, "fields": ev.Fields, "date": ev.Date})
			}
		}
		return len(ones) == 2
	}, 30*time.Second, 20*time.Millisecond, "order 1 from the backfill and from the stream")
	require.Equal(t, ones[0], ones[1])
}

// waitTotal waits until Bento's purchase total for email is cents.
func (e *env) waitTotal(t *testing.T, email string, cents int64) {
	t.Helper()
	require.Eventually(t, func() bool { return e.Fake.PurchaseTotals()[email] == cents },
		30*time.Second, 20*time.Millisecond, "purchase total of %s is not %d: %v", email, cents, e.Fake.PurchaseTotals())
}
