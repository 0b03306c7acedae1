package pipeline_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
	"github.com/pgbento/cdc/internal/pipeline"
)

// logSink is a log destination safe for concurrent writes.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestRenamedTableIsFollowedByIdentity: issue 10.4. A watched table renamed
// while the syncer runs sends its changes under the new name; they must
// still reach the rules that name the table (matched by relation OID), with
// a warning naming both names, never be ignored.
func TestRenamedTableIsFollowedByIdentity(t *testing.T) {
	// Only the purchase rule: the example's other rules have lookups whose
	// SQL names orders, which a rename breaks (visibly: the stream holds).
	rules := examples.Rules[:strings.Index(examples.Rules, "  # A refund")]
	e := newEnvWith(t, examples.Schema, rules, "")
	logs := &logSink{}
	e.StartWith(t, pipeline.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	e.DB.Exec(t, `INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 5.00, now())`)
	require.Eventually(t, func() bool { return e.Fake.PurchaseTotals()["ann@example.com"] == 500 },
		30*time.Second, 20*time.Millisecond, "the first paid order was not sent")

	e.DB.Exec(t, `ALTER TABLE orders RENAME TO orders_v2`)
	e.DB.Exec(t, `INSERT INTO orders_v2 (customer_id, status, total, paid_at) VALUES (1, 'paid', 10.00, now())`)
	require.Eventually(t, func() bool { return e.Fake.PurchaseTotals()["ann@example.com"] == 1500 },
		30*time.Second, 20*time.Millisecond, "the paid order of the renamed table was not sent; log:\n%s", logs)
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "table=public.orders arrives_as=public.orders_v2")
}
