package rules

import (
	"cmp"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"

	"github.com/pgbento/cdc/internal/stream"
)

// Exact decimals (numeric columns: stream.Numeric; JSON numbers:
// json.Number) are text in Go, so expr's own comparison would find
// `new.total == 0` false for "0.00" and `lookup.c.prefs.tier == 1` false
// for json.Number("1"), silently. Every comparison whose operand type is
// unknown when the rule is compiled (a column, a lookup value) goes
// through compare instead: two numbers of any of these kinds compare by
// value, exactly; anything else compares as expr would.

// comparisons maps each comparison operator to its function's name; `in`
// (and so `not in`, its negation) compares each element with ==.
var comparisons = map[string]string{
	"==": "__eq", "!=": "__ne", "<": "__lt", "<=": "__le", ">": "__gt", ">=": "__ge", "in": "__in",
}

// compareOptions registers the functions the patch calls. The patch
// itself is applied only by compileExpr's second compile: with any patch
// present, expr v1.17 stops reporting some errors inside a function's
// arguments (a disabled now() among them), so every expression is first
// compiled, and checked, without it.
func compareOptions() []expr.Option {
	var opts []expr.Option
	for op, name := range comparisons {
		f := func(p ...any) (any, error) { return compare(op, p[0], p[1]), nil }
		if op == "in" {
			f = func(p ...any) (any, error) { return in(p[0], p[1]), nil }
		}
		opts = append(opts, expr.Function(name, f, new(func(any, any) bool)))
	}
	return opts
}

// in is x in coll: an element of a list equal to x by compare's ==, else
// as expr decides (a key of a map, a substring).
func in(x, coll any) bool {
	if list, ok := coll.([]any); ok {
		for _, el := range list {
			if compare("==", x, el) {
				return true
			}
		}
		return false
	}
	return runtime.In(x, coll)
}

// comparePatch rewrites a comparison with an operand of unknown type into
// a call of its function; comparisons of known types stay as they are (and
// keep expr's compile-time type errors).
type comparePatch struct{}

func (comparePatch) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok {
		return
	}
	name, ok := comparisons[b.Operator]
	if !ok || !(unknown(b.Left) || unknown(b.Right)) {
		return
	}
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: []ast.Node{b.Left, b.Right}})
}

func unknown(n ast.Node) bool {
	t := n.Type()
	return t == nil || t.Kind() == reflect.Interface
}

// compare is a op b: by exact value when both are numbers, else as expr
// compares (which fails the row for an ordering it cannot make, such as a
// string against a number).
func compare(op string, a, b any) bool {
	if c, ok := cmpNumbers(a, b); ok {
		return ordered(op, c)
	}
	switch op {
	case "==":
		return runtime.Equal(a, b)
	case "!=":
		return !runtime.Equal(a, b)
	case "<":
		return runtime.Less(a, b)
	case "<=":
		return runtime.LessOrEqual(a, b)
	case ">":
		return runtime.More(a, b)
	}
	return runtime.MoreOrEqual(a, b)
}

// ordered applies op to the result of a comparison.
func ordered(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// cmpNumbers orders a and b by exact value when both are numbers (ok
// false otherwise): two integers directly, the common case, without
// big.Rat; any other pair through number.
func cmpNumbers(a, b any) (int, bool) {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y), true
		}
		if y, ok := b.(int); ok {
			return cmp.Compare(x, int64(y)), true
		}
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return x.cmp(y), true
		}
	}
	return 0, false
}

// num is a number compared exactly: a rational, or an infinity (inf is
// -1 or +1), or NaN.
type num struct {
	r   *big.Rat
	inf int
	nan bool
}

// cmp orders as Postgres orders numeric and float values: NaN equals NaN
// and is greater than every other value (so an unchanged NaN is not a
// change), then the infinities, then the rationals.
func (x num) cmp(y num) int {
	switch {
	case x.nan || y.nan:
		return b2i(x.nan) - b2i(y.nan)
	case x.inf != 0 || y.inf != 0:
		return x.inf - y.inf // equal infinities are equal; a finite value has inf 0
	}
	return x.r.Cmp(y.r)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// number reads v as a number if it is one of the kinds rules see.
func number(v any) (num, bool) {
	switch x := v.(type) {
	case int:
		return num{r: new(big.Rat).SetInt64(int64(x))}, true
	case int64:
		return num{r: new(big.Rat).SetInt64(x)}, true
	case int32:
		return num{r: new(big.Rat).SetInt64(int64(x))}, true
	case uint64:
		return num{r: new(big.Rat).SetUint64(x)}, true
	case float64:
		return floatNum(x), true
	case float32:
		return floatNum(float64(x)), true
	case stream.Numeric:
		return textNum(string(x))
	case json.Number:
		return textNum(string(x))
	}
	return num{}, false
}

func floatNum(f float64) num {
	switch {
	case math.IsNaN(f):
		return num{nan: true}
	case math.IsInf(f, 0):
		return num{inf: int(math.Copysign(1, f))}
	}
	// The shortest decimal that reads back as f: a literal 19.99 in a rule
	// means 19.99, not the binary value nearest to it.
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return num{r: r}
}

// textNum reads an exact decimal's text, numeric's specials included.
func textNum(s string) (num, bool) {
	switch s {
	case "NaN":
		return num{nan: true}, true
	case "Infinity":
		return num{inf: 1}, true
	case "-Infinity":
		return num{inf: -1}, true
	}
	r, ok := new(big.Rat).SetString(s)
	return num{r: r}, ok
}
