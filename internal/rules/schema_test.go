package rules

import (
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

func TestColumns(t *testing.T) {
	s := mustCompile(t, Defaults{}, purchaseSpec(), signupSpec("signup"))
	require.ElementsMatch(t, []ColumnRef{
		{Table: "public.orders", Column: "status", Rule: "purchase", Path: "rules[0].when"},
		{Table: "public.orders", Column: "status", Old: true, Rule: "purchase", Path: "rules[0].when"},
		{Table: "public.orders", Column: "email", Rule: "purchase", Path: "rules[0].event.email"},
		{Table: "public.orders", Column: "paid_at", Rule: "purchase", Path: "rules[0].event.date"},
		{Table: "public.orders", Column: "id", Rule: "purchase", Path: "rules[0].event.details.unique.key"},
		{Table: "public.orders", Column: "total", Rule: "purchase", Path: "rules[0].event.details.value.amount"},
		{Table: "public.orders", Column: "currency", Rule: "purchase", Path: "rules[0].event.details.value.currency"},
	}, s.Columns("public.orders"))
	require.Empty(t, s.Columns("public.other"))
	require.Equal(t, []string{"purchase"}, s.ReadsOld("public.orders"))
	require.Empty(t, s.ReadsOld("public.customers"))
}

func TestColumnsFromChanged(t *testing.T) {
	sp := signupSpec("c")
	sp.When = `changed("plan") || new["email"] != nil`
	s := mustCompile(t, Defaults{}, sp)
	var got []string
	for _, c := range s.Columns("public.customers") {
		if c.Path == "rules[0].when" {
			got = append(got, c.Column+map[bool]string{true: "(old)", false: ""}[c.Old])
		}
	}
	require.ElementsMatch(t, []string{"plan", "plan(old)", "email"}, got)
	require.Equal(t, []string{"c"}, s.ReadsOld("public.customers"))
}

func TestCheckSchema(t *testing.T) {
	s := compileExample(t)
	live := map[string][]string{
		"public.customers": {"id", "email", "first_name", "last_name", "plan", "marketing_opt_in", "created_at", "updated_at"},
		"public.orders":    {"id", "customer_id", "status", "total", "currency", "note", "created_at", "paid_at", "shipped_at", "refunded_at"},
	}
	require.NoError(t, s.CheckSchema(live))

	live["public.customers"] = []string{"id", "email", "first_name", "last_name", "marketing_opt_in", "created_at"}
	delete(live, "public.orders")
	err := s.CheckSchema(live)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	got := errorStrings(errs)
	require.Contains(t, got, `rule "purchase_on_paid": rules[0].table: table public.orders does not exist or is not visible to the syncer's user`)
	require.Contains(t, got, `rule "subscribe_new_customer": rules[4].event.fields.plan: table public.customers has no column "plan"`)
	require.Contains(t, got, `rule "tag_new_plan": rules[9].when: table public.customers has no column "plan"`)
	require.Len(t, got, 4+7, "4 order rules without their table, 7 paths that read plan")
}

// TestSpecYAML: the rule types decode strictly, so a misspelt key is an
// error at load, not a silently ignored setting.
func TestSpecYAML(t *testing.T) {
	var f ruleFile
	err := yaml.UnmarshalWithOptions([]byte("rules:\n  - name: x\n    table: t\n    evnt: {}\n"), &f, yaml.Strict(), yaml.DisallowUnknownField())
	require.ErrorContains(t, err, `unknown field "evnt"`)

	err = yaml.UnmarshalWithOptions([]byte("rules:\n  - name: x\n    lookups:\n      c: {sql: select 1, cache: soon}\n"), &f, yaml.Strict(), yaml.DisallowUnknownField())
	require.Error(t, err)

	require.NoError(t, yaml.UnmarshalWithOptions([]byte(`
defaults: {source: pos}
rules:
  - name: x
    tables: [a, b]
    on: [insert]
    event:
      type: t
      email: "= new.email"
      fields: {n: 3, s: "=   new.s  "}
      details: {list: [1, "= new.x"]}
`), &f, yaml.Strict(), yaml.DisallowUnknownField()))
	s := mustCompile(t, f.Defaults, f.Rules...)
	require.Equal(t, []string{"public.a", "public.b"}, s.Tables())
	require.Equal(t, int64(3), s.rules[0].event.fields[0].val.lit)
	require.NotNil(t, s.rules[0].event.fields[1].val.prog)
}

func TestCheckGenerated(t *testing.T) {
	sp := signupSpec("r")
	sp.Event.Fields["plan"] = "= new.plan_label"
	snap := signupSpec("snap")
	snap.On = []string{"snapshot"}
	snap.Event.Fields["plan"] = "= new.plan_label"
	s := mustCompile(t, Defaults{}, sp, snap)
	err := s.CheckGenerated(map[string][]string{"public.customers": {"plan_label"}})
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs, 1, "a snapshot-only rule reads it through SELECT: %v", err)
	require.Equal(t, "r", errs[0].Rule)
	require.Equal(t, "rules[0].event.fields.plan", errs[0].Path)
	require.Contains(t, errs[0].Msg, `column "plan_label" of public.customers is generated`)
	require.Contains(t, errs[0].Msg, "compute the value in the expression")
	require.NoError(t, s.CheckGenerated(map[string][]string{"public.customers": {"other"}}))
}
