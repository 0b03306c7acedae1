package rules

import (
	"os"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// ruleFile is the part of the config file this package owns, as the config
// loader embeds it.
type ruleFile struct {
	Defaults Defaults `yaml:"defaults"`
	Rules    []Spec   `yaml:"rules"`
}

func loadExample(t testing.TB) ruleFile {
	t.Helper()
	data, err := os.ReadFile("../../examples/rules.yaml")
	require.NoError(t, err)
	var f ruleFile
	require.NoError(t, yaml.UnmarshalWithOptions(data, &f, yaml.Strict(), yaml.DisallowUnknownField()))
	return f
}

func compileExample(t testing.TB) *Set {
	t.Helper()
	f := loadExample(t)
	s, err := Compile(f.Defaults, f.Rules)
	require.NoError(t, err)
	return s
}

func TestExampleCompiles(t *testing.T) {
	s := compileExample(t)
	require.Equal(t, []string{"public.customers", "public.orders"}, s.Tables())
	require.Equal(t, []string{"purchase_on_paid", "order_refunded", "order_shipped", "lifetime_value"}, s.ReadsOld("public.orders"))
	require.Equal(t, []string{"change_email", "resubscribe", "unsubscribe_on_opt_out", "profile_fields", "remove_old_plan_tag", "tag_new_plan"}, s.ReadsOld("public.customers"))
	require.True(t, s.HasLookups())
	require.False(t, mustCompile(t, Defaults{}, signupSpec("x")).HasLookups())
	f := loadExample(t)
	require.Equal(t, "30s", f.Rules[0].Lookups["customer"].Cache.String())
}
