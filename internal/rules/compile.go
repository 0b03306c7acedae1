package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/pgbento/cdc/internal/stream"
)

// Set is a compiled, validated rule list. It is immutable and safe to share;
// evaluation state lives in an Evaluator.
type Set struct {
	rules  []*rule
	tables []string // sorted, unique
}

// rule is one compiled Spec.
type rule struct {
	name    string
	path    string // "rules[2]"
	tables  []string
	ops     [stream.OpSnapshot + 1]bool
	when    *vm.Program
	lookups []*lookup // sorted by name
	event   event
	onError OnError
	cols    []colRef // every new.X / old.X / changed("X") the rule reads
	cents   []colRef // every column cents() converts
	newCols []string // columns read from the new row (unchanged-TOAST check)
	oldCols []string // columns read from the old row (replica identity check)
	oldRef  bool     // reads old.X (not only through changed)
	newRow  bool     // reads the new row as a whole
	oldRow  bool     // reads the old row as a whole
}

// colRef is a column read at a YAML path.
type colRef struct {
	column string
	path   string
	old    bool
}

// ruleOps are the operations a rule may name; commit, message and truncate
// are stream markers handled by the caller.
var ruleOps = []stream.Op{stream.OpInsert, stream.OpUpdate, stream.OpDelete, stream.OpSnapshot}

var sourceSegment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// compiler collects every problem instead of stopping at the first, so the
// operator fixes the whole file in one pass.
type compiler struct {
	errs Errors
	opts []expr.Option
	rule string // the rule being compiled, for FieldError.Rule
}

func (c *compiler) errorf(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Rule: c.rule, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Compile validates d and specs and compiles every expression. It returns
// all problems at once as Errors.
func Compile(d Defaults, specs []Spec) (*Set, error) {
	c := &compiler{opts: exprOptions()}
	d = c.defaults(d)
	s := &Set{}
	seen := map[string]bool{}
	for i := range specs {
		r := c.compileRule(d, &specs[i], fmt.Sprintf("rules[%d]", i))
		if r.name != "" && seen[r.name] {
			c.errorf(r.path+".name", "duplicate rule name")
		}
		seen[r.name] = true
		s.rules = append(s.rules, r)
		for _, t := range r.tables {
			if !slices.Contains(s.tables, t) {
				s.tables = append(s.tables, t)
			}
		}
	}
	slices.Sort(s.tables)
	if err := c.errs.orNil(); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *compiler) defaults(d Defaults) Defaults {
	if d.Source == "" {
		d.Source = "generic"
	}
	if !sourceSegment.MatchString(d.Source) {
		c.errorf("defaults.source", "source %q must be letters, digits, '_' or '-' (it is a URL path segment)", d.Source)
	}
	if d.OnError == "" {
		d.OnError = DeadLetter.String()
	}
	if _, ok := parseOnError(d.OnError); !ok {
		c.errorf("defaults.on_error", "unknown on_error %q (want dead_letter, skip or stop)", d.OnError)
	}
	return c.lookupTimeout(d)
}

func (c *compiler) compileRule(d Defaults, sp *Spec, path string) *rule {
	c.rule = sp.Name
	r := &rule{name: sp.Name, path: path}
	if sp.Name == "" {
		c.errorf(path+".name", "name is required")
	}
	r.tables = c.tables(sp, path)
	opsOK := c.ops(r, sp.On, path+".on")
	if sp.When != "" {
		r.when = c.expression(r, sp.When, path+".when", false, expr.AsBool())
	}
	r.lookups = c.lookups(r, d, sp.Lookups, path+".lookups")
	r.event = c.event(r, d, &sp.Event, path+".event")
	r.onError = c.onError(d, sp.OnError, path+".on_error")
	if opsOK && r.oldRef && !r.ops[stream.OpUpdate] && !r.ops[stream.OpDelete] {
		c.errorf(path+".on", "the rule reads old values but old is always null for %s; add update or delete", strings.Join(sp.On, ", "))
	}
	return r
}

func (c *compiler) tables(sp *Spec, path string) []string {
	names := sp.Tables
	switch {
	case sp.Table != "" && len(sp.Tables) > 0:
		c.errorf(path+".table", "set table or tables, not both")
	case sp.Table != "":
		names = []string{sp.Table}
		path += ".table"
	case len(sp.Tables) == 0:
		c.errorf(path+".table", "table is required")
	default:
		path += ".tables"
	}
	var out []string
	for _, n := range names {
		schema, table, ok := stream.SplitTable(n)
		if !ok {
			c.errorf(path, "table %q: want table or schema.table", n)
			continue
		}
		q := schema + "." + table
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// ops sets r.ops and reports whether every operation was valid.
func (c *compiler) ops(r *rule, on []string, path string) bool {
	if len(on) == 0 {
		c.errorf(path, "on is required (any of insert, update, delete, snapshot)")
		return false
	}
	valid := true
	for _, name := range on {
		op, ok := stream.ParseOp(name)
		if !ok || !slices.Contains(ruleOps, op) {
			c.errorf(path, "unknown operation %q (want insert, update, delete or snapshot)", name)
			valid = false
			continue
		}
		r.ops[op] = true
	}
	return valid
}

func (c *compiler) onError(d Defaults, s, path string) OnError {
	if s == "" {
		o, _ := parseOnError(d.OnError) // a bad default is reported once, at defaults
		return o
	}
	o, ok := parseOnError(s)
	if !ok {
		c.errorf(path, "unknown on_error %q (want dead_letter, skip or stop)", s)
	}
	return o
}

// expression compiles src and records the columns it reads on r. Lookups
// are only allowed where they have run (the event).
func (c *compiler) expression(r *rule, src, path string, lookupOK bool, extra ...expr.Option) *vm.Program {
	prog, refs, err := compileExpr(src, append(slices.Clip(c.opts), extra...))
	if err != nil {
		c.errorf(path, "%v", err)
		return nil
	}
	if refs.Lookup && !lookupOK {
		c.errorf(path, "lookup is not available here: lookups run only after when matched, for the event")
	}
	r.addRefs(refs, path)
	return prog
}

func (r *rule) addRefs(refs refs, path string) {
	r.newRow = r.newRow || refs.NewRow
	r.oldRow = r.oldRow || refs.OldRow
	for _, col := range refs.New {
		r.cols = append(r.cols, colRef{column: col, path: path})
		r.newCols = appendUnique(r.newCols, col)
	}
	for _, col := range refs.Old {
		r.cols = append(r.cols, colRef{column: col, path: path, old: true})
		r.oldCols = appendUnique(r.oldCols, col)
		r.oldRef = true
	}
	for _, col := range refs.Cents {
		r.cents = append(r.cents, colRef{column: col, path: path})
	}
	for _, col := range refs.Changed {
		r.cols = append(r.cols, colRef{column: col, path: path}, colRef{column: col, path: path, old: true})
		r.newCols = appendUnique(r.newCols, col)
		r.oldCols = appendUnique(r.oldCols, col)
	}
}
