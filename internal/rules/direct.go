package rules

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// column is a value whose expression only reads one column ("= new.email",
// "= old.status"): most event values are. eval reads it from the row
// without the expression VM, whose map fetch goes through reflection and
// allocates (issue 14, item 2); the result is the VM's: the column's value,
// nil when the row or the column is absent.
type column struct {
	name string
	old  bool
}

// directColumn reports the column prog reads when it is nothing but new.X,
// new["X"], old.X or old["X"].
func directColumn(prog *vm.Program) (column, bool) {
	m, ok := prog.Node().(*ast.MemberNode)
	if !ok || m.Optional || m.Method {
		return column{}, false
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	prop, isStr := m.Property.(*ast.StringNode)
	if !ok || !isStr || (id.Value != "new" && id.Value != "old") {
		return column{}, false
	}
	return column{name: prop.Value, old: id.Value == "old"}, true
}

// read is the column's value in the change being evaluated.
func (c *column) read(e *Evaluator) any {
	if c.old {
		return e.env.Old[c.name]
	}
	return e.env.New[c.name]
}
