package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEnvErrorsOnceAndEmptyIsEmpty: a variable that is not set is reported
// once for its field (not again as "required"), and a set but empty
// variable is called empty (issue 15.14).
func TestEnvErrorsOnceAndEmptyIsEmpty(t *testing.T) {
	t.Setenv("TEST_EMPTY_SITE", "")
	_, err := Parse("cdc.yaml", []byte(`source:
  dsn: ${TEST_UNSET_DSN_15}
bento:
  site_uuid: ${TEST_EMPTY_SITE}
rules:
  - name: r
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
`))
	require.EqualError(t, err, "cdc.yaml:2: source.dsn: environment variable TEST_UNSET_DSN_15 is not set\n"+
		"cdc.yaml:4: bento.site_uuid: environment variable TEST_EMPTY_SITE is empty")
}

// TestUnknownFieldNamesTheRule: an unknown key inside a rule names the rule
// and its line, like every other rule error (issue 15.14).
func TestUnknownFieldNamesTheRule(t *testing.T) {
	_, err := Parse("cdc.yaml", []byte(`source:
  dsn: x
bento:
  site_uuid: s
rules:
  - name: first
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
  - name: second
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
      colour: red
`))
	require.EqualError(t, err, `cdc.yaml:18: rule "second": unknown field "colour"`)
}
