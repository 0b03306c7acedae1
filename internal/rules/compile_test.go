package rules

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// validSpec is a correct $purchase rule that each error case breaks once.
func validSpec() Spec {
	return Spec{
		Name:  "purchase",
		Table: "orders",
		On:    []string{"insert", "update"},
		When:  `new.status == "paid" && (op != "update" || old.status != "paid")`,
		Lookups: map[string]Lookup{
			"customer": {SQL: "select email from customers where id = $1", Args: []string{"new.customer_id"}},
		},
		Event: EventSpec{
			Type:   "$purchase",
			Email:  "= lookup.customer.email",
			Fields: map[string]any{"first_name": "= new.first_name"},
			Details: map[string]any{
				"unique": map[string]any{"key": "= string(new.id)"},
				"value":  map[string]any{"amount": "= cents(new.total)", "currency": "USD"},
			},
		},
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name     string
		defaults Defaults
		mutate   func(*Spec)
		rule     string
		path     string
		msg      string
	}{
		{"missing name", Defaults{}, func(s *Spec) { s.Name = "" }, "", "rules[0].name", "name is required"},
		{"no table", Defaults{}, func(s *Spec) { s.Table = "" }, "purchase", "rules[0].table", "table is required"},
		{"table and tables", Defaults{}, func(s *Spec) { s.Tables = []string{"x"} }, "purchase", "rules[0].table", "set table or tables, not both"},
		{"bad table", Defaults{}, func(s *Spec) { s.Table = "a.b.c" }, "purchase", "rules[0].table", `table "a.b.c": want table or schema.table`},
		{"bad tables entry", Defaults{}, func(s *Spec) { s.Table, s.Tables = "", []string{"ok", "x."} }, "purchase", "rules[0].tables", `table "x.": want table or schema.table`},
		{"no ops", Defaults{}, func(s *Spec) { s.On = nil }, "purchase", "rules[0].on", "on is required"},
		{"unknown op", Defaults{}, func(s *Spec) { s.On = []string{"insert", "upsert"} }, "purchase", "rules[0].on", `unknown operation "upsert"`},
		{"marker op", Defaults{}, func(s *Spec) { s.On = []string{"commit"} }, "purchase", "rules[0].on", `unknown operation "commit"`},
		{"unknown op reported once", Defaults{}, func(s *Spec) { s.On = []string{"upsert"} }, "purchase", "rules[0].on", `unknown operation "upsert"`},
		{"old on insert only", Defaults{}, func(s *Spec) { s.On = []string{"insert", "snapshot"} }, "purchase", "rules[0].on", "reads old values but old is always null for insert, snapshot"},
		{"bad when", Defaults{}, func(s *Spec) { s.When = "new.status ==" }, "purchase", "rules[0].when", "unexpected token EOF"},
		{"when not bool", Defaults{}, func(s *Spec) { s.When = `"paid"` }, "purchase", "rules[0].when", "expected bool"},
		{"when uses lookup", Defaults{}, func(s *Spec) { s.When = "lookup.customer != nil" }, "purchase", "rules[0].when", "lookup is not available here"},
		{"unknown function", Defaults{}, func(s *Spec) { s.When = `nope(new.x)` }, "purchase", "rules[0].when", "unknown name nope"},
		{"now", Defaults{}, func(s *Spec) { s.Event.Email = "= format(\"%v\", now())" }, "purchase", "rules[0].event.email", "unknown name now"},
		{"no type", Defaults{}, func(s *Spec) { s.Event.Type = "" }, "purchase", "rules[0].event.type", "type is required"},
		{"type expression", Defaults{}, func(s *Spec) { s.Event.Type = "= new.kind" }, "purchase", "rules[0].event.type", "type must be a literal"},
		{"no email", Defaults{}, func(s *Spec) { s.Event.Email = "" }, "purchase", "rules[0].event.email", "email is required"},
		{"bad email expr", Defaults{}, func(s *Spec) { s.Event.Email = "= lower(" }, "purchase", "rules[0].event.email", "unexpected token EOF"},
		{"bad date expr", Defaults{}, func(s *Spec) { s.Event.Date = "= iso(1, 2)" }, "purchase", "rules[0].event.date", "too many arguments"},
		{"bad source", Defaults{}, func(s *Spec) { s.Event.Source = "p/os" }, "purchase", "rules[0].event.source", `source "p/os" must be letters`},
		{"nested field map", Defaults{}, func(s *Spec) { s.Event.Fields["addr"] = map[string]any{"city": "x"} }, "purchase", "rules[0].event.fields.addr", "fields must be flat"},
		{"nested field list", Defaults{}, func(s *Spec) { s.Event.Fields["tags"] = []any{"x"} }, "purchase", "rules[0].event.fields.tags", "fields must be flat"},
		{"bad field expr", Defaults{}, func(s *Spec) { s.Event.Fields["x"] = "= cents()" }, "purchase", "rules[0].event.fields.x", "not enough arguments"},
		{"bad details expr", Defaults{}, func(s *Spec) { s.Event.Details["cart"] = []any{map[string]any{"sku": "= new."}} }, "purchase", "rules[0].event.details.cart[0].sku", "unexpected end of expression"},
		{"literal out of range", Defaults{}, func(s *Spec) { s.Event.Fields["x"] = uint64(1) << 63 }, "purchase", "rules[0].event.fields.x", "integer 9223372036854775808 is out of range"},
		{"bad literal", Defaults{}, func(s *Spec) { s.Event.Fields["x"] = []byte("x") }, "purchase", "rules[0].event.fields.x", "bytea value cannot be sent"},
		{"purchase without key", Defaults{}, func(s *Spec) { delete(s.Event.Details, "unique") }, "purchase", "rules[0].event.details.unique.key", "a $purchase event needs details.unique.key"},
		{"purchase without amount", Defaults{}, func(s *Spec) { s.Event.Details["value"] = map[string]any{"currency": "USD"} }, "purchase", "rules[0].event.details.value.amount", "needs details.value.amount"},
		{"purchase without currency", Defaults{}, func(s *Spec) { s.Event.Details["value"] = map[string]any{"amount": "= cents(new.total)"} }, "purchase", "rules[0].event.details.value.currency", "needs details.value.currency"},
		{"purchase without details", Defaults{}, func(s *Spec) { s.Event.Details = nil }, "purchase", "rules[0].event.details", "needs details with unique.key, value.amount and value.currency"},
		{"purchase float amount", Defaults{}, func(s *Spec) { s.Event.Details["value"] = map[string]any{"amount": 19.99, "currency": "USD"} }, "purchase", "rules[0].event.details.value.amount", "amount must be an integer in minor units"},
		{"purchase empty currency", Defaults{}, func(s *Spec) { s.Event.Details["value"] = map[string]any{"amount": 1999, "currency": ""} }, "purchase", "rules[0].event.details.value.currency", "must be a non-empty string"},
		{"bad on_error", Defaults{}, func(s *Spec) { s.OnError = "retry" }, "purchase", "rules[0].on_error", `unknown on_error "retry"`},
		{"bad default on_error", Defaults{OnError: "ignore"}, func(*Spec) {}, "", "defaults.on_error", `unknown on_error "ignore"`},
		{"bad default source", Defaults{Source: "a b"}, func(*Spec) {}, "", "defaults.source", `source "a b" must be letters`},
		{"lookup name", Defaults{}, func(s *Spec) { s.Lookups["my-customer"] = s.Lookups["customer"] }, "purchase", "rules[0].lookups.my-customer", "must be an identifier"},
		{"lookup no sql", Defaults{}, func(s *Spec) { s.Lookups["customer"] = Lookup{Args: []string{"new.id"}} }, "purchase", "rules[0].lookups.customer.sql", "sql is required"},
		{"lookup writes", Defaults{}, func(s *Spec) {
			s.Lookups["customer"] = Lookup{SQL: "delete from customers where id = $1 returning email", Args: []string{"new.id"}}
		}, "purchase", "rules[0].lookups.customer.sql", "a lookup must be a query"},
		{"lookup arg count", Defaults{}, func(s *Spec) {
			s.Lookups["customer"] = Lookup{SQL: "select 1 where $1 = $2", Args: []string{"new.id"}}
		}, "purchase", "rules[0].lookups.customer.args", "sql has 2 placeholders ($1..$2) but 1 args are given"},
		{"lookup placeholder gap", Defaults{}, func(s *Spec) {
			s.Lookups["customer"] = Lookup{SQL: "select 1 where $2 = 1", Args: []string{"new.id"}}
		}, "purchase", "rules[0].lookups.customer.sql", "$1 is missing"},
		{"lookup bad arg", Defaults{}, func(s *Spec) {
			s.Lookups["customer"] = Lookup{SQL: "select 1 where id = $1", Args: []string{"new.id +"}}
		}, "purchase", "rules[0].lookups.customer.args[0]", "unexpected token"},
		{"lookup arg uses lookup", Defaults{}, func(s *Spec) {
			s.Lookups["customer"] = Lookup{SQL: "select 1 where id = $1", Args: []string{"lookup.x"}}
		}, "purchase", "rules[0].lookups.customer.args[0]", "lookup is not available here"},
		{"lookup negative cache", Defaults{}, func(s *Spec) {
			s.Lookups["customer"] = Lookup{SQL: "select 1 where id = $1", Args: []string{"new.id"}, Cache: -1}
		}, "purchase", "rules[0].lookups.customer.cache", "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := validSpec()
			tt.mutate(&sp)
			_, err := Compile(tt.defaults, []Spec{sp})
			var errs Errors
			require.True(t, errors.As(err, &errs), "got %v", err)
			require.Len(t, errs, 1, "%v", err)
			require.Equal(t, tt.rule, errs[0].Rule)
			require.Equal(t, tt.path, errs[0].Path)
			require.Contains(t, errs[0].Msg, tt.msg)
		})
	}
}

func TestCompileValidSpec(t *testing.T) {
	s, err := Compile(Defaults{}, []Spec{validSpec()})
	require.NoError(t, err)
	require.Equal(t, []string{"public.orders"}, s.Tables())
	require.Equal(t, "generic", s.rules[0].event.source)
	require.Equal(t, DeadLetter, s.rules[0].onError)
}

func TestCompileReportsEveryError(t *testing.T) {
	bad := validSpec()
	bad.On = []string{"update", "upsert"}
	bad.Event.Email = ""
	dup := validSpec()
	_, err := Compile(Defaults{}, []Spec{validSpec(), bad, dup})
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Equal(t, []string{
		`rule "purchase": rules[1].on: unknown operation "upsert" (want insert, update, delete or snapshot)`,
		`rule "purchase": rules[1].event.email: email is required`,
		`rule "purchase": rules[1].name: duplicate rule name`,
		`rule "purchase": rules[2].name: duplicate rule name`,
	}, errorStrings(errs))
	require.Contains(t, err.Error(), "\n", "Error() joins all problems")
}

func errorStrings(errs Errors) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

func TestFieldErrorWithoutRule(t *testing.T) {
	e := &FieldError{Path: "defaults.source", Msg: "bad"}
	require.Equal(t, "defaults.source: bad", e.Error())
}
