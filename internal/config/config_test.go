package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
)

const head = `source:
  dsn: ${TEST_DSN}
bento:
  site_uuid: ${TEST_SITE:-site-1}
`

// eventsAPIHead is head with the Events API, which the example's
// $change_email rule needs.
const eventsAPIHead = head + `  transport: events_api
  publishable_key: pk
  secret_key: sk
`

func TestLoadExampleConfig(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://u:hunter2@localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(eventsAPIHead+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, "postgres://u:hunter2@localhost/db", cfg.Source.DSN)
	require.Equal(t, "site-1", cfg.Bento.SiteUUID)
	require.Equal(t, []string{"public.customers", "public.orders"}, sorted(cfg.Source.Tables))
	require.Equal(t, "cdc_bento", cfg.Source.Slot)
	require.Equal(t, "127.0.0.1:9187", cfg.HTTP.Addr)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestErrorsNameFileLineAndRule(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	src := head + `rules:
  - name: good
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
  - name: broken
    table: orders
    on: [insert, upsert]
    event:
      type: x
      email: "= lower(new.email"
`
	_, err := Parse("cdc.yaml", []byte(src))
	require.Error(t, err)
	var list Errors
	require.ErrorAs(t, err, &list)
	require.GreaterOrEqual(t, len(list), 2, err.Error())
	msg := err.Error()
	require.Contains(t, msg, `cdc.yaml:14: rule "broken"`) // on: [insert, upsert]
	require.Contains(t, msg, `cdc.yaml:17: rule "broken"`) // the bad expression
}

func TestUnknownKeyHasLine(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	_, err := Parse("cdc.yaml", []byte(head+"bogus: 1\nrules: []\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "cdc.yaml:5:")
	require.Contains(t, err.Error(), "bogus")
}

func TestMissingEnvIsAnErrorWithoutValues(t *testing.T) {
	os.Unsetenv("TEST_DSN")
	_, err := Parse("cdc.yaml", []byte(head+"rules: []\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "cdc.yaml:2:")
	require.Contains(t, err.Error(), "TEST_DSN is not set")
}

func TestSecretsNeverInErrors(t *testing.T) {
	t.Setenv("TEST_DSN", "host=localhost password=hunter2 port=notaport")
	t.Setenv("SECRET_KEY", "s3cr3t")
	src := head + "  secret_key: ${SECRET_KEY}\n  batch_size: 5000\nrules: []\n"
	_, err := Parse("cdc.yaml", []byte(src))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
	require.NotContains(t, err.Error(), "s3cr3t")
	require.Contains(t, err.Error(), "source.dsn")
}

func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dsn")
	require.NoError(t, os.WriteFile(p, []byte("postgres://from-file/db\n"), 0o600))
	src := strings.Replace(head, "${TEST_DSN}", "${file:"+p+"}", 1) + "rules: []\n"
	cfg, err := Parse("cdc.yaml", []byte(src))
	require.NoError(t, err)
	require.Equal(t, "postgres://from-file/db", cfg.Source.DSN)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
}

// TestExampleConfigIsCompleteAndInStep: examples/cdc.yaml is the README's
// complete example; its rules must be examples/rules.yaml verbatim.
func TestExampleConfigIsCompleteAndInStep(t *testing.T) {
	src, err := os.ReadFile("../../examples/cdc.yaml")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(src), examples.Rules), "examples/cdc.yaml must end with examples/rules.yaml verbatim")
	t.Setenv("DATABASE_URL", "postgres://cdc@localhost/shop")
	t.Setenv("BENTO_SITE_UUID", "site")
	t.Setenv("BENTO_PUBLISHABLE_KEY", "pk")
	t.Setenv("BENTO_SECRET_KEY", "sk")
	cfg, err := Load("../../examples/cdc.yaml")
	require.NoError(t, err)
	require.True(t, cfg.Backfill.OnCreate)
	require.NotZero(t, cfg.Line("rules[0].event.type"))
}

func TestBentoErrorsPointAtTheirLine(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	_, err := Parse("cdc.yaml", []byte(head+"  batch_size: 5000\nrules: []\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "cdc.yaml:5: bento.batch_size")
}

// Issue 11, item 12: $change_email is a command, which the webhook
// transport cannot send: a load error on the rule's line.
func TestChangeEmailNeedsTheEventsAPI(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	_, err := Parse("cdc.yaml", []byte(head+examples.Rules))
	require.Error(t, err)
	require.Contains(t, err.Error(), `rule "change_email": rules[`)
	require.Contains(t, err.Error(), "only bento.transport: events_api (with publishable_key and secret_key) can send")
	require.Contains(t, err.Error(), "the webhook transport cannot")
	cfg, err := Parse("cdc.yaml", []byte(eventsAPIHead+examples.Rules))
	require.NoError(t, err)
	require.NotNil(t, cfg.Compiled)
}

// Issue 11, item 10: a custom Authorization header would be replaced by
// the Events API's Basic auth: a config error on its line.
func TestAuthorizationHeaderWithEventsAPI(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	t.Setenv("RELAY_TOKEN", "tok-123")
	_, err := Parse("cdc.yaml", []byte(eventsAPIHead+"  headers:\n    Authorization: Bearer ${RELAY_TOKEN}\nrules: []\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "cdc.yaml:9: bento.headers.Authorization: cannot be set with transport events_api")
	require.NotContains(t, err.Error(), "tok-123")
}

// Issue 11, item 11: an '@' in a URL DSN's password that is not
// percent-encoded is a config error naming source.dsn, never its value.
func TestDSNWithUnescapedAt(t *testing.T) {
	for _, dsn := range []string{"postgres://cdc:p@ss-w0rd@db.internal:5432/shop", "postgresql://cdc:a@b@db/shop?sslmode=require"} {
		t.Setenv("TEST_DSN", dsn)
		_, err := Parse("cdc.yaml", []byte(head+"rules: []\n"))
		require.Error(t, err, dsn)
		require.Contains(t, err.Error(), "cdc.yaml:2: source.dsn: the user or password holds an '@' that is not percent-encoded: write it as %40")
		for _, part := range []string{"p@ss", "ss-w0rd", "w0rd@db", "a@b", "b@db"} {
			require.NotContains(t, err.Error(), part)
		}
	}
	for _, dsn := range []string{"postgres://cdc:p%40ss@db/shop", "host=db user=cdc password=p@ss", "postgres://db/shop?options=a@b"} {
		t.Setenv("TEST_DSN", dsn)
		_, err := Parse("cdc.yaml", []byte(head+"rules: []\n"))
		require.NoError(t, err, dsn)
	}
}

func TestOnSlotLost(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(eventsAPIHead+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, "stop", cfg.Source.OnSlotLost, "the default")
	cfg, err = Parse("cdc.yaml", []byte("source:\n  dsn: ${TEST_DSN}\n  on_slot_lost: resync\nbento:\n  site_uuid: s\n  transport: events_api\n  publishable_key: pk\n  secret_key: sk\n"+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, "resync", cfg.Source.OnSlotLost)
	_, err = Parse("cdc.yaml", []byte("source:\n  dsn: ${TEST_DSN}\n  on_slot_lost: ignore\nbento:\n  site_uuid: s\n  transport: events_api\n  publishable_key: pk\n  secret_key: sk\n"+examples.Rules))
	require.ErrorContains(t, err, "source.on_slot_lost")
}

func TestPartitionMoves(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(eventsAPIHead+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, "merge", cfg.Source.PartitionMoves, "the default")
	src := func(v string) []byte {
		return []byte("source:\n  dsn: ${TEST_DSN}\n  partition_moves: " + v + "\nbento:\n  site_uuid: s\n  transport: events_api\n" +
			"  publishable_key: pk\n  secret_key: sk\n" + examples.Rules)
	}
	cfg, err = Parse("cdc.yaml", src("split"))
	require.NoError(t, err)
	require.Equal(t, "split", cfg.Source.PartitionMoves)
	_, err = Parse("cdc.yaml", src("both"))
	require.ErrorContains(t, err, `source.partition_moves: "both" must be merge or split`)
}

// TestSourceProblemsNameTheirLine: a section's problem carries its YAML path
// (stream.FieldError), which the loader turns into the line it is on.
func TestSourceProblemsNameTheirLine(t *testing.T) {
	src := "source:\n  dsn: postgres://localhost/db\n  slot: Bad-Slot\nbento:\n  site_uuid: site-1\n" + examples.Rules
	_, err := Parse("cdc.yaml", []byte(src))
	require.Error(t, err)
	require.Contains(t, err.Error(), `cdc.yaml:3: source.slot: "Bad-Slot" must be lowercase letters, digits and _ (at most 63)`)
}

// Issue 14, item 6: bento.coalesce_fields is off unless the file sets it.
func TestCoalesceFields(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(head+"rules: []\n"))
	require.NoError(t, err)
	require.False(t, cfg.Bento.CoalesceFields, "the default")
	cfg, err = Parse("cdc.yaml", []byte(head+"  coalesce_fields: true\nrules: []\n"))
	require.NoError(t, err)
	require.True(t, cfg.Bento.CoalesceFields)
	_, err = Parse("cdc.yaml", []byte(head+"  coalesce_fields: sometimes\nrules: []\n"))
	require.ErrorContains(t, err, "cdc.yaml:5")
}
