package rules

import (
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// env is what every rule expression sees. One env per Evaluator is reused
// for every change (Evaluate is not concurrent), so no per-row allocation is
// needed to run a program.
type env struct {
	Op        string         `expr:"op"`        // insert, update, delete, snapshot
	Table     string         `expr:"table"`     // schema-qualified
	New       map[string]any `expr:"new"`       // nil on delete
	Old       map[string]any `expr:"old"`       // nil on insert and snapshot
	Lookup    map[string]any `expr:"lookup"`    // lookup name -> row (nil: no row)
	Committed time.Time      `expr:"committed"` // the transaction's commit time
	// Changed reports whether a column differs between old and new; it is
	// a field, not a helper, because it needs the row.
	Changed func(col string) (bool, error) `expr:"changed"`
}

// exprOptions are the compile options shared by every expression.
func exprOptions() []expr.Option {
	opts := []expr.Option{
		expr.Env(&env{}),
		// now() would make a replayed change produce a different event.
		expr.DisableBuiltin("now"),
	}
	opts = append(opts, compareOptions()...)
	return append(opts, helperOptions()...)
}

// compileExpr compiles src and collects the row columns it references. It
// compiles twice: once to report every error, then with comparePatch (see
// compareOptions for why not at once).
func compileExpr(src string, opts []expr.Option) (*vm.Program, refs, error) {
	if _, err := expr.Compile(src, opts...); err != nil {
		return nil, refs{}, err
	}
	prog, err := expr.Compile(src, append(opts[:len(opts):len(opts)], expr.Patch(comparePatch{}))...)
	if err != nil {
		return nil, refs{}, err
	}
	var r refs
	node := prog.Node()
	ast.Walk(&node, &r)
	// Walk visits an identifier before the member node that reads through
	// it; any "new" that is not the base of new.X is the whole row.
	r.NewRow = r.idents[0] > r.members[0]
	r.OldRow = r.idents[1] > r.members[1]
	return prog, r, nil
}

// refs are the columns an expression reads, for the schema check, the
// replica identity check and the unchanged-TOAST check.
type refs struct {
	New, Old []string // new.X / old.X
	Changed  []string // changed("X"): reads both
	Cents    []string // cents(new.X) / cents(old.X): checked against the column's type
	Lookup   bool     // uses lookup at all
	// NewRow and OldRow: the expression reads the whole row (toJSON(new)),
	// so every value in it must be known.
	NewRow, OldRow bool
	idents         [2]int // identifiers new, old
	members        [2]int // new.X, old.X with a constant X
}

// Visit implements ast.Visitor.
func (r *refs) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		prop, isStr := n.Property.(*ast.StringNode)
		if !ok || !isStr {
			return
		}
		switch id.Value {
		case "new":
			r.New = appendUnique(r.New, prop.Value)
			r.members[0]++
		case "old":
			r.Old = appendUnique(r.Old, prop.Value)
			r.members[1]++
		}
	case *ast.IdentifierNode:
		switch n.Value {
		case "lookup":
			r.Lookup = true
		case "new":
			r.idents[0]++
		case "old":
			r.idents[1]++
		}
	case *ast.CallNode:
		r.visitCall(n)
	}
}

// visitCall records changed("X") and the column a cents() call converts.
func (r *refs) visitCall(n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || len(n.Arguments) == 0 {
		return
	}
	switch {
	case id.Value == "changed" && len(n.Arguments) == 1:
		if s, ok := n.Arguments[0].(*ast.StringNode); ok {
			r.Changed = appendUnique(r.Changed, s.Value)
		}
	case id.Value == "cents":
		if col, ok := rowColumn(n.Arguments[0]); ok {
			r.Cents = appendUnique(r.Cents, col)
		}
	}
}

// rowColumn is X of new.X or old.X.
func rowColumn(node ast.Node) (string, bool) {
	m, ok := node.(*ast.MemberNode)
	if !ok {
		return "", false
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	prop, isStr := m.Property.(*ast.StringNode)
	if !ok || !isStr || (id.Value != "new" && id.Value != "old") {
		return "", false
	}
	return prop.Value, true
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
