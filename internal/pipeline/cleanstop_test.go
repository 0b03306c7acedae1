package pipeline_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/logtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

// A clean stop with everything delivered logs no warning about events
// handed back (U18): there are none.
func TestCleanStopWarnsOfNothingHandedBack(t *testing.T) {
	e := pipelinetest.NewEnv(t, "")
	logs := &logtest.Buffer{}
	_, stop := e.StartWith(t, pipeline.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	e.DB.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('ann@example.com', true)`)
	require.Eventually(t, func() bool { return len(e.Fake.Received()) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, stop())
	require.Zero(t, logs.Count("handed back"), "a clean stop hands nothing back")
	require.Zero(t, logs.Count("level=WARN"), "a clean stop warns of nothing")
}
