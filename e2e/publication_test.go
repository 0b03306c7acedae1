package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readyz returns /readyz's status and body ("" and 0 when nothing answers).
func (e *env) readyz() (int, string) {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + e.httpAddr + "/readyz")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestTableDroppedFromPublicationWhileRunning: with the least-privileged
// role, an admin's ALTER PUBLICATION ... DROP TABLE of a rule's table while
// the syncer runs makes /readyz and cdc status say so, with the fix, in one
// ERROR line; re-adding it makes the syncer ready again by itself. A start
// while the table is still missing fails with the admin's SQL, not with
// "must be owner of publication".
func TestTableDroppedFromPublicationWhileRunning(t *testing.T) {
	role := newLimitedRole(t)
	e := newEnv(t, envOptions{User: role})
	grantLimited(t, e, role)
	e.db.Exec(t, `CREATE SCHEMA cdc AUTHORIZATION `+role+`;
		CREATE PUBLICATION cdc_bento FOR TABLE public.customers, public.orders`) // what cdc check prints

	s := e.startSyncer()
	e.db.Exec(t, `ALTER PUBLICATION cdc_bento DROP TABLE public.orders`)
	const reason = "replication: table public.orders is not in publication cdc_bento since "
	const fix = "an admin runs ALTER PUBLICATION cdc_bento ADD TABLE public.orders; then cdc backfill --table public.orders"
	var body string
	require.Eventually(t, func() bool {
		var code int
		code, body = e.readyz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, reason)
	}, 30*time.Second, 20*time.Millisecond, "readyz never named the table:\n%s", s.Logs())
	require.Contains(t, body, fix)
	res := e.cli("status")
	require.Contains(t, res.Stdout, "ready=false: "+reason, res.String())

	e.db.Exec(t, `ALTER PUBLICATION cdc_bento ADD TABLE public.orders`)
	require.Eventually(t, func() bool {
		code, _ := e.readyz()
		return code == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "not ready again after the table was added back:\n%s", s.Logs())
	require.Equal(t, 1, strings.Count(s.Logs(), "a rule's table is not in the publication"), s.Logs())
	require.Contains(t, s.Logs(), "level=ERROR")
	require.Contains(t, s.Logs(), "table back in the publication")
	code, _ := s.terminate(30 * time.Second)
	require.Zero(t, code, s.Logs())

	e.db.Exec(t, `ALTER PUBLICATION cdc_bento DROP TABLE public.orders`)
	s = e.spawn()
	select {
	case <-s.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("cdc run started without public.orders in the publication:\n%s", s.Logs())
	}
	require.NotZero(t, s.State().ExitCode())
	require.Contains(t, s.Logs(), "publication cdc_bento lacks public.orders and this role may not add them", s.Logs())
	require.Contains(t, s.Logs(), "runs ALTER PUBLICATION cdc_bento ADD TABLE public.orders; then start again", s.Logs())
	require.NotContains(t, s.Logs(), "SQLSTATE 42501", s.Logs())
}
