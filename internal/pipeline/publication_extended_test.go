package pipeline_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/logtest"
	"github.com/pgbento/cdc/internal/pipeline"
	"github.com/pgbento/cdc/internal/pipeline/pipelinetest"
)

// A rule's table dropped from the publication while the syncer was down
// is added back at the next start by a role that owns the publication,
// with one WARN that its changes from meanwhile were never streamed and
// the backfill that sends them; a start with nothing to add warns of
// nothing (review).
func TestStartWarnsWhenItExtendsThePublication(t *testing.T) {
	e := pipelinetest.NewEnv(t, "")
	_, stop := e.StartWith(t, pipeline.Options{})
	require.NoError(t, stop())
	e.DB.Exec(t, `ALTER PUBLICATION cdc_bento DROP TABLE public.orders`)

	logs := &logtest.Buffer{}
	_, stop = e.StartWith(t, pipeline.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, stop())
	require.Equal(t, 1, logs.Count("publication extended: changes to a table made while the publication lacked it were not streamed"))
	require.Equal(t, 1, logs.Count(`ADD TABLE \"public\".\"orders\"`), logs.String())

	quiet := &logtest.Buffer{}
	_, stop = e.StartWith(t, pipeline.Options{Logger: slog.New(slog.NewTextHandler(quiet, nil))})
	require.NoError(t, stop())
	require.Zero(t, quiet.Count("publication extended"))
}
