package config

import (
	"strings"
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
	require.EqualError(t, err, "cdc.yaml:2: source.dsn: not a valid connection string (value not shown: it may hold a password)\n"+
		`cdc.yaml:18: rule "second": rules[1].event.colour: unknown field "colour"`)
}

// TestEveryProblemAtOnce: a file with an unknown key, a broken when, a
// misspelt operation and a $purchase without currency reports all four,
// in file order, each with its line, rule and field; the unknown key does
// not hide the others (strict decoding stopped at it).
func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Parse("bad.yaml", []byte(`source:
  dsn: postgres://localhost/shop
bento:
  site_uuid: s
rules:
  - name: broken_one
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
      detials: {a: 1}
  - name: broken_when
    table: orders
    on: [insert]
    when: "new.total >"
    event:
      type: x
      email: "= new.email"
  - name: broken_on
    table: orders
    on: [inserted]
    event:
      type: x
      email: "= new.email"
  - name: broken_purchase
    table: orders
    on: [insert]
    event:
      type: $purchase
      email: "= new.email"
      details:
        unique: {key: "= new.id"}
        value: {amount: "= cents(new.total)"}
`))
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs, 4, "%v", err)
	want := []struct {
		line        int
		rule, field string
	}{
		{12, "broken_one", "rules[0].event.detials"},
		{16, "broken_when", "rules[1].when"},
		{22, "broken_on", "rules[2].on"},
		{34, "broken_purchase", "rules[3].event.details.value"},
	}
	for i, w := range want {
		e := errs[i]
		require.Equal(t, w.line, e.Line, "%v", e)
		require.Equal(t, "bad.yaml", e.File, "%v", e)
		require.Equal(t, w.rule, e.Rule, "%v", e)
		require.True(t, strings.HasPrefix(e.Field, w.field), "%v: field %q", e, e.Field)
	}
	require.Contains(t, errs[0].Error(), `bad.yaml:12: rule "broken_one": rules[0].event.detials: unknown field "detials" (did you mean "details"?)`)
}

// TestUnknownKeyThroughAnAlias: a key written under an anchor and used
// through an alias or a merge key (<<: *x) where no field takes it is
// reported too (the AST walk checks an anchor where it is written; strict
// decoding backs it up where it is used).
func TestUnknownKeyThroughAnAlias(t *testing.T) {
	for name, rule := range map[string]string{
		"merge key": `
  - name: merged
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
      details: &d {on_eror: stop}
  - <<: *d
    name: uses_it
    table: orders
    on: [insert]
    event: {type: y, email: "= new.email"}`,
		"alias": `
  - name: aliased
    table: orders
    on: [insert]
    event:
      type: x
      email: "= new.email"
      details:
        inner: &e {type: z, email: "= new.email", colour: red}
  - name: uses_it
    table: orders
    on: [insert]
    event: *e`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("alias.yaml", []byte("source:\n  dsn: postgres://localhost/shop\nbento:\n  site_uuid: s\nrules:"+rule+"\n"))
			require.Error(t, err)
			require.Regexp(t, `alias.yaml:1[23]: rule "(merged|aliased)": unknown field "(on_eror|colour)"`, err.Error())
		})
	}
}
