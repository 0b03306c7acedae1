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

func TestLoadExampleConfig(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://u:hunter2@localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(head+examples.Rules))
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

func TestOnSlotLost(t *testing.T) {
	t.Setenv("TEST_DSN", "postgres://localhost/db")
	cfg, err := Parse("cdc.yaml", []byte(head+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, "stop", cfg.Source.OnSlotLost, "the default")
	cfg, err = Parse("cdc.yaml", []byte("source:\n  dsn: ${TEST_DSN}\n  on_slot_lost: resync\nbento:\n  site_uuid: s\n"+examples.Rules))
	require.NoError(t, err)
	require.Equal(t, "resync", cfg.Source.OnSlotLost)
	_, err = Parse("cdc.yaml", []byte("source:\n  dsn: ${TEST_DSN}\n  on_slot_lost: ignore\nbento:\n  site_uuid: s\n"+examples.Rules))
	require.ErrorContains(t, err, "source.on_slot_lost")
}

// TestSourceProblemsNameTheirLine: a section's problem carries its YAML path
// (stream.FieldError), which the loader turns into the line it is on.
func TestSourceProblemsNameTheirLine(t *testing.T) {
	src := "source:\n  dsn: postgres://localhost/db\n  slot: Bad-Slot\nbento:\n  site_uuid: site-1\n" + examples.Rules
	_, err := Parse("cdc.yaml", []byte(src))
	require.Error(t, err)
	require.Contains(t, err.Error(), `cdc.yaml:3: source.slot: "Bad-Slot" must be lowercase letters, digits and _ (at most 63)`)
}
