package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

const dateSchema = `CREATE TABLE payments (id int, paid_on date, email text, PRIMARY KEY (id, paid_on));`

const dateRules = `
defaults:
  on_error: dead_letter
rules:
  - name: paid
    table: payments
    on: [insert]
    event:
      type: paid
      email: "= new.email"
      fields:
        paid_on: "= string(new.paid_on)"
`

// A date column is YYYY-MM-DD in events and in dead-letter keys, which
// paste into a backfill's --where (U14).
func TestDatesAreISODatesInEventsAndDeadLetterKeys(t *testing.T) {
	e := pipelinetest.NewEnvWith(t, dateSchema, dateRules, "")
	stop := e.Start(t)
	e.DB.Exec(t, `INSERT INTO payments VALUES (1, '2026-11-30', 'ann@example.com'), (2, '2026-12-01', NULL)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "2026-11-30", e.Fake.Received()[0].Fields["paid_on"])
	var key string
	require.Eventually(t, func() bool {
		return e.DB.Pool.QueryRow(context.Background(), `SELECT row_key FROM cdc.dead_letters`).Scan(&key) == nil
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "id=2,paid_on=2026-12-01", key)
	require.NoError(t, stop())
}
