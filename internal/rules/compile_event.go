package rules

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/pgbento/cdc/internal/stream"
)

// event is a compiled EventSpec.
type event struct {
	typ      string
	source   string
	purchase bool // type $purchase: unique key, amount and currency are checked
	email    value
	newEmail *value // $change_email only
	date     *value // nil: the commit time
	fields   []field
	details  *tree // nil: no details
}

type field struct {
	name string
	val  value
}

// value is a literal or a compiled expression at a YAML path.
type value struct {
	lit  any
	prog *vm.Program
	col  *column // set when prog only reads a column (see directColumn)
	path string
}

// tree is a details value: a leaf, a map (sorted keys) or a list.
type tree struct {
	leaf  *value
	keys  []string
	kids  []*tree
	list  []*tree
	isMap bool
}

const typePurchase = "$purchase"

func (c *compiler) event(r *rule, d Defaults, sp *EventSpec, path string) event {
	ev := event{typ: sp.Type, source: sp.Source, purchase: sp.Type == typePurchase}
	switch {
	case sp.Type == "":
		c.errorf(path+".type", "type is required")
	case strings.HasPrefix(sp.Type, "="):
		c.errorf(path+".type", "type must be a literal, not an expression")
	}
	if sp.Email == "" {
		c.errorf(path+".email", "email is required")
	}
	ev.email = c.value(r, sp.Email, path+".email")
	c.changeEmail(r, &ev, sp, path)
	if sp.Date != "" {
		v := c.value(r, sp.Date, path+".date")
		ev.date = &v
	}
	if ev.source == "" {
		ev.source = d.Source
	} else if !sourceSegment.MatchString(ev.source) {
		c.errorf(path+".source", "source %q must be letters, digits, '_' or '-' (it is a URL path segment)", ev.source)
	}
	ev.fields = c.fields(r, sp.Fields, path+".fields")
	if sp.Details != nil {
		ev.details = c.tree(r, sp.Details, path+".details")
	}
	if ev.purchase {
		c.purchase(ev.details, path+".details")
	}
	return ev
}

func (c *compiler) fields(r *rule, m map[string]any, path string) []field {
	var out []field
	for _, k := range sortedKeys(m) {
		p := path + "." + k
		switch m[k].(type) {
		case map[string]any, map[any]any, []any:
			c.errorf(p, "fields must be flat (Bento sets one subscriber field per key); put nested data in details")
			continue
		}
		out = append(out, field{name: k, val: c.value(r, m[k], p)})
	}
	return out
}

func (c *compiler) tree(r *rule, v any, path string) *tree {
	switch x := v.(type) {
	case map[string]any:
		t := &tree{isMap: true}
		for _, k := range sortedKeys(x) {
			t.keys = append(t.keys, k)
			t.kids = append(t.kids, c.tree(r, x[k], path+"."+k))
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(k)] = v
		}
		return c.tree(r, m, path)
	case []any:
		t := &tree{}
		for i, e := range x {
			t.list = append(t.list, c.tree(r, e, fmt.Sprintf("%s[%d]", path, i)))
		}
		return t
	default:
		val := c.value(r, v, path)
		return &tree{leaf: &val}
	}
}

// value compiles a string starting with "=" as an expression and keeps
// anything else as a literal.
func (c *compiler) value(r *rule, v any, path string) value {
	if s, ok := v.(string); ok {
		if src, isExpr := strings.CutPrefix(s, "="); isExpr {
			v := value{prog: c.expression(r, strings.TrimSpace(src), path, true), path: path}
			if v.prog != nil {
				if col, ok := directColumn(v.prog); ok {
					v.col = &col
				}
			}
			return v
		}
	}
	lit := literal(v)
	if _, err := output(lit); err != nil {
		c.errorf(path, "%v", err)
	}
	return value{lit: lit, path: path}
}

// literal normalizes YAML integers to int64 so events carry one integer type.
func literal(v any) any {
	switch x := v.(type) {
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
	case int:
		return int64(x)
	}
	return v
}

// changeEmail compiles new_email: required by $change_email (Bento's
// command moving a subscriber from email to new_email), which carries
// nothing else, and meaningless on any other type.
func (c *compiler) changeEmail(r *rule, ev *event, sp *EventSpec, path string) {
	if sp.Type != stream.TypeChangeEmail {
		if sp.NewEmail != "" {
			c.errorf(path+".new_email", "new_email is only for type %s", stream.TypeChangeEmail)
		}
		return
	}
	if sp.NewEmail == "" {
		c.errorf(path+".new_email", "a %s needs new_email (email is the old address)", stream.TypeChangeEmail)
		return
	}
	v := c.value(r, sp.NewEmail, path+".new_email")
	ev.newEmail = &v
	if sp.Date != "" || sp.Source != "" || len(sp.Fields) > 0 || sp.Details != nil {
		c.errorf(path, "a %s is a command: it takes only email and new_email (no date, source, fields or details)",
			stream.TypeChangeEmail)
	}
}

// purchase checks that a $purchase event has what Bento needs to count
// revenue once: a unique key, an integer amount and a currency.
func (c *compiler) purchase(details *tree, path string) {
	if details == nil {
		c.errorf(path, "a $purchase event needs details with unique.key, value.amount and value.currency")
		return
	}
	for _, p := range [][]string{{"unique", "key"}, {"value", "amount"}, {"value", "currency"}} {
		leaf := details.find(p...)
		full := path + "." + strings.Join(p, ".")
		if leaf == nil {
			c.errorf(full, "a $purchase event needs details.%s", strings.Join(p, "."))
			continue
		}
		if leaf.prog != nil {
			continue
		}
		if p[1] == "amount" {
			if _, ok := leaf.lit.(int64); !ok {
				c.errorf(full, "amount must be an integer in minor units (cents), e.g. \"= cents(new.total)\"")
			}
		} else if s, ok := leaf.lit.(string); !ok || s == "" {
			c.errorf(full, "must be a non-empty string")
		}
	}
}

// find returns the leaf value at a key path, or nil.
func (t *tree) find(keys ...string) *value {
	for _, k := range keys {
		if t == nil || !t.isMap {
			return nil
		}
		i := slices.Index(t.keys, k)
		if i < 0 {
			return nil
		}
		t = t.kids[i]
	}
	if t == nil {
		return nil
	}
	return t.leaf
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
