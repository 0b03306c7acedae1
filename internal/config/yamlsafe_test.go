package config

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/examples"
)

const tagRule = `source:
  dsn: postgres://localhost/db
rules:
  - name: a
    table: orders
    on: !x
    event:
      type: t
      email: !!str "= new.email"
`

// TestYAMLTagsAreErrorsWithTheirLine (issue 15.11): a tag where the YAML
// library would panic is a config error at its line, like any other.
func TestYAMLTagsAreErrorsWithTheirLine(t *testing.T) {
	cfg, err := Parse("cdc.yaml", []byte(tagRule))
	require.Nil(t, cfg)
	require.EqualError(t, err, "cdc.yaml:6: YAML tags such as !x are not supported: write the plain value\n"+
		"cdc.yaml:9: YAML tags such as !!str are not supported: write the plain value")
}

// FuzzParse: no input makes config loading panic; a failure is always a
// list of Errors naming the file, and a success has compiled rules. The
// seed corpus runs with the suite; fuzz with
// go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./internal/config/
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("../../examples/cdc.yaml")
	require.NoError(f, err)
	for _, seed := range []string{
		"source:\n  dsn: postgres://localhost/db\n" + examples.Rules,
		string(full),
		tagRule,
		"rules: !x\n",
		"on: !x",
		"source: &a\n  dsn: *a\n",
		"rules:\n  - <<: *x\n",
		"{",
		"",
		"---\n---\n",
		"rules:\n  - name: a\n    table: orders\n    on: [insert]\n    event: {type: t, email: '= new.email'}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse("fuzz.yaml", src)
		if err != nil {
			require.Nil(t, cfg)
			var errs Errors
			require.ErrorAs(t, err, &errs)
			require.NotEmpty(t, errs)
			for _, e := range errs {
				require.Equal(t, "fuzz.yaml", e.File, "%v", e)
			}
			return
		}
		require.NotNil(t, cfg.Compiled)
	})
}
