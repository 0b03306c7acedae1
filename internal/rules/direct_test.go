package rules

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// TestDirectColumnMatchesVM: a value read straight from the row is what the
// expression VM makes of it, for every kind of row and column.
func TestDirectColumnMatchesVM(t *testing.T) {
	t.Parallel()
	rows := []map[string]any{nil, {}, {"a": nil}, {"a": "x", "b": int64(7)}, {"a": stream.Unchanged},
		{"a": map[string]any{"k": json.Number("1")}}, {"a": time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"a": stream.Numeric("19.99")}, {"a": []any{"x", nil}}, {"a": []byte("x")}}
	direct := []string{"new.a", "old.a", `new["a"]`, `old["a"]`, "new.missing"}
	for _, src := range direct {
		prog, _, err := compileExpr(src, exprOptions())
		require.NoError(t, err)
		col, ok := directColumn(prog)
		require.True(t, ok, src)
		for _, n := range rows {
			for _, o := range rows {
				e := &Evaluator{}
				e.env.New, e.env.Old = n, o
				viaVM, vmErr := e.eval(&value{prog: prog, path: "p"})
				got, err := e.eval(&value{prog: prog, col: &col, path: "p"})
				require.Equal(t, vmErr, err, "%s new=%v old=%v", src, n, o)
				require.Equal(t, viaVM, got, "%s new=%v old=%v", src, n, o)
			}
		}
	}
	for _, src := range []string{"new?.a", "new.a.b", "new", "string(new.a)", `new.a ?? "x"`, "lookup.a", "new[op]"} {
		prog, _, err := compileExpr(src, exprOptions())
		require.NoError(t, err)
		_, ok := directColumn(prog)
		require.False(t, ok, src)
	}
}
