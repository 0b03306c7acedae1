package rules

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// run compiles src as a rule expression and runs it on a row.
func run(t *testing.T, src string, row map[string]any) (any, error) {
	t.Helper()
	prog, _, err := compileExpr(src, exprOptions())
	require.NoError(t, err, src)
	return expr.Run(prog, &env{Op: "insert", Table: "public.orders", New: row, Lookup: map[string]any{}})
}

// Exact decimals and JSON numbers are text in Go; comparing them with a
// number must compare values, not fail silently (== was false for
// "0.00" == 0 and json.Number("1") == 1).
func TestComparisonsOfNumbersAreByValue(t *testing.T) {
	row := map[string]any{
		"total": stream.Numeric("19.99"), "zero": stream.Numeric("0.00"), "tier": json.Number("1"),
		"big": stream.Numeric("1" + "00000000000000000000"), "qty": int64(3), "ratio": 0.5,
		"nan": stream.Numeric("NaN"), "inf": stream.Numeric("Infinity"), "fnan": math.NaN(), "finf": math.Inf(-1),
		"status": "paid", "code": "1", "paid_at": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "none": nil,
		"exp": json.Number("1e3"),
	}
	tests := []struct {
		src  string
		want bool
	}{
		{`new.zero == 0`, true},
		{`new.zero != 0`, false},
		{`new.total == 19.99`, true},
		{`new.total > 10`, true},
		{`new.total >= 19.99`, true},
		{`new.total < 19.989`, false},
		{`new.tier == 1`, true},
		{`1 == new.tier`, true},
		{`new.tier == new.qty - 2`, true},
		{`new.exp == 1000`, true},
		{`new.big > 9223372036854775807`, true},
		{`new.big > new.total`, true},
		{`new.ratio < new.total`, true},
		{`new.qty == 3`, true},
		{`new.nan == new.nan`, true}, // as in Postgres: an unchanged NaN is not a change
		{`new.nan != new.nan`, false},
		{`new.nan != 1`, true},
		{`new.nan > new.inf`, true}, // NaN sorts above everything, as in Postgres
		{`new.fnan < 1`, false},
		{`new.zero in [0, 1]`, true},
		{`new.tier in [2, 1]`, true},
		{`new.tier not in [2, 3]`, true},
		{`new.status in ["paid", "shipped"]`, true},
		{`new.qty in [1, 2]`, false},
		{`new.inf > new.big`, true},
		{`new.finf < 0`, true},
		{`new.inf == new.inf`, true},
		{`new.status == "paid"`, true},
		{`new.code == 1`, false}, // a text column is not a number
		{`new.none == nil`, true},
		{`new.total == nil`, false},
		{`new.paid_at < committed`, false},
		{`op == "insert"`, true},
	}
	for _, tt := range tests {
		got, err := run(t, tt.src, row)
		require.NoError(t, err, tt.src)
		require.Equal(t, tt.want, got, tt.src)
	}
}

// An ordering expr cannot make (text against a number) still fails the
// row, and load-time errors inside function arguments are still reported.
func TestComparisonsKeepTheirErrors(t *testing.T) {
	_, err := run(t, `new.status > 1`, map[string]any{"status": "paid"})
	require.Error(t, err)
	_, _, err = compileExpr(`format("%v", now())`, exprOptions())
	require.ErrorContains(t, err, "unknown name now")
	_, _, err = compileExpr(`op == 1`, exprOptions())
	require.Error(t, err, "comparing known types stays a load-time error")
}
