package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// badConfig has three problems, on known lines: a bento setting out of
// range, a rule expression that does not parse and an unknown operation.
const badConfig = `source:
  dsn: "host=127.0.0.1 port=%d user=cdc dbname=shop sslmode=disable"
bento:
  site_uuid: site-1
  batch_size: 5000
rules:
  - name: broken_expr
    table: orders
    on: [insert]
    event:
      type: $purchase
      email: "= lower(new.email"
  - name: bad_op
    table: orders
    on: [upsert]
    event:
      type: order_upserted
      email: "= new.email"
`

// TestBadConfigExitsBeforeConnecting: a broken config file stops `cdc run`
// with exit code 2, every problem named with file:line (and the rule), and
// not one connection attempt to the database.
func TestBadConfigExitsBeforeConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(badConfig, l.Addr().(*net.TCPAddr).Port)), 0o600))
	at := func(s string) string { return fmt.Sprintf("%s:%d: ", path, lineOf(t, badConfig, s)) }

	for _, cmd := range [][]string{{"run"}, {"check"}, {"status"}} {
		res := runCLI(t, append(cmd, "--config", path)...)
		require.Equal(t, 2, res.Code, res.String())
		for _, want := range []string{
			at(`email: "= lower(new.email"`) + `rule "broken_expr"`,
			at("on: [upsert]") + `rule "bad_op"`,
			"upsert",
		} {
			require.Contains(t, res.Stderr, want, "cdc %s", cmd[0])
		}
		require.Contains(t, res.Stderr, at("batch_size: 5000")+"bento.batch_size", "cdc %s: the problem must name the line of batch_size", cmd[0])
	}
	require.Zero(t, accepted.Load(), "cdc connected to the database despite a bad config")
}

// TestCheckAgainstLiveDatabase: `cdc check` on a database that lacks
// REPLICA IDENTITY FULL where rules read old values reports an error with
// the rules and the SQL to fix it (exit 3: their dead letters could never
// be replayed), and a rule naming a column the table does not
// have is a problem (exit 3) naming the rule and the column.
func TestCheckAgainstLiveDatabase(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      string
		extraRules string
		code       int
		want       []string // lines of output, each a regexp matching one line, in order
	}{
		{
			name:  "replica identity",
			setup: `ALTER TABLE orders REPLICA IDENTITY DEFAULT`,
			code:  3,
			want: []string{
				`^error +table public\.orders has REPLICA IDENTITY DEFAULT but rules purchase_on_paid, order_refunded, order_shipped, lifetime_value read old values$`,
				`^ +fix: .*cannot be replayed`,
				`^ +sql: ALTER TABLE "?public"?\."?orders"? REPLICA IDENTITY FULL;$`,
			},
		},
		{
			name: "missing column",
			extraRules: `
  - name: coupon_used
    table: orders
    on: [insert]
    when: new.coupon_code != nil
    event:
      type: coupon_used
      email: "= lower(new.note)"
`,
			code: 3,
			want: []string{`^error .*cdc\.yaml:\d+: rule "coupon_used": .*"coupon_code"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{ExtraRules: tc.extraRules})
			if tc.setup != "" {
				e.db.Exec(t, tc.setup)
			}
			res := e.cli("check")
			require.Equal(t, tc.code, res.Code, res.String())
			requireLinesInOrder(t, res.Stdout, tc.want)
			require.NotContains(t, res.Stdout, "public.customers has REPLICA IDENTITY", "customers is FULL")
			if tc.extraRules != "" {
				line := lineOf(t, e.config(), "when: new.coupon_code")
				require.Contains(t, res.Stdout, fmt.Sprintf("%s:%d: rule \"coupon_used\"", e.cfgPath, line))
			}
		})
	}
}

func requireLinesInOrder(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		re := regexp.MustCompile(w)
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		require.Less(t, i, len(lines), "no line with %q (in order) in:\n%s", w, out)
	}
}

// lineOf is the 1-based number of the first line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no line with %q", s)
	return 0
}

// TestRunNamesHTTPAddrInUse: when the metrics address is taken, cdc run
// says which setting to change (issue 15.14).
func TestRunNamesHTTPAddrInUse(t *testing.T) {
	e := newEnv(t, envOptions{})
	l, err := net.Listen("tcp", e.httpAddr)
	require.NoError(t, err)
	defer l.Close()
	res := e.cli("run")
	require.Equal(t, 1, res.Code, res.String())
	require.Contains(t, res.Stderr, "listen on http.addr "+e.httpAddr+" (status page, metrics and health): ", res.String())
	require.Contains(t, res.Stderr, "address already in use", res.String())
}
