package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// TestRunLogsAreJSONAndEveryRequestIsLoggedAtDebug: with log.format json
// every line `cdc run` writes is a JSON object, also the signal notice and
// the last line; durations are strings; errors use the key "error"; at
// debug every request Bento answered has its "bento request" line
// (issue 15.12).
func TestRunLogsAreJSONAndEveryRequestIsLoggedAtDebug(t *testing.T) {
	e := newEnv(t, envOptions{LogLevel: "debug", LogFormat: "json", BatchSize: 1})
	s := e.startSyncer()
	e.db.Exec(t, `INSERT INTO customers (email, marketing_opt_in) VALUES ('a@example.com', true), ('b@example.com', true)`)
	require.Eventually(t, func() bool {
		return received(e.fake, func(ev bentotest.ReceivedEvent) bool { return ev.Email == "b@example.com" })
	}, 30*time.Second, 20*time.Millisecond)
	code, _ := s.terminate(30 * time.Second)
	require.Zero(t, code, s.Logs())

	var requests, durations int
	var sawSignal bool
	for _, line := range strings.Split(strings.TrimSpace(s.Logs()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "a line that is not JSON: %q", line)
		require.NotContains(t, rec, "err", "errors are logged under \"error\": %s", line)
		if rec["msg"] == "bento request" {
			requests++
			d, ok := rec["duration"].(string)
			require.True(t, ok, "duration as a string: %s", line)
			_, err := time.ParseDuration(d)
			require.NoError(t, err, line)
			durations++
		}
		if rec["signal"] == "terminated" {
			sawSignal = true
		}
	}
	require.True(t, sawSignal, "the signal notice is a log line:\n%s", s.Logs())
	require.Equal(t, len(e.fake.Requests()), requests, "every request is logged at debug:\n%s", s.Logs())
	require.Equal(t, requests, durations)
	require.GreaterOrEqual(t, requests, 2)
}
