package rules

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// runExpr compiles src and runs it over c the way a rule would.
func runExpr(t *testing.T, src string, c *stream.Change) (any, error) {
	t.Helper()
	prog, _, err := compileExpr(src, exprOptions())
	require.NoError(t, err)
	e := NewEvaluator(&Set{}, nil)
	e.setChange(c)
	return e.run(prog)
}

func rowChange(op stream.Op, newRow, oldRow stream.Row) *stream.Change {
	return &stream.Change{Op: op, Table: "public.t", New: newRow, Old: oldRow}
}

func TestCents(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		digits  int
		want    int64
		wantErr string
	}{
		{"numeric", stream.Numeric("19.99"), 2, 1999, ""},
		{"negative half", "-0.5", 2, -50, ""},
		{"no fraction", stream.Numeric("7"), 2, 700, ""},
		{"leading dot", ".5", 2, 50, ""},
		{"trailing dot", "5.", 2, 500, ""},
		{"extra zero decimals", stream.Numeric("19.990"), 2, 1999, ""},
		{"three digits", stream.Numeric("1.234"), 3, 1234, ""},
		{"zero digits", stream.Numeric("12"), 0, 12, ""},
		{"int64", int64(3), 2, 300, ""},
		{"int", 3, 2, 300, ""},
		{"int32", int32(-3), 2, -300, ""},
		{"json number", json.Number("12.5"), 2, 1250, ""},
		{"large exact", stream.Numeric("92233720368547758.07"), 2, 9223372036854775807, ""},
		{"too many decimals", stream.Numeric("19.999"), 2, 0, "more than 2 decimal places"},
		{"float", 19.99, 2, 0, "is a float"},
		{"null", nil, 2, 0, "value is null"},
		{"nan", stream.Numeric("NaN"), 2, 0, "not a decimal number"},
		{"exponent", json.Number("1e3"), 2, 0, "not a decimal number"},
		{"empty", "", 2, 0, "not a decimal number"},
		{"minus only", "-", 2, 0, "not a decimal number"},
		{"overflow", stream.Numeric("92233720368547758.08"), 2, 0, "out of range"},
		{"int overflow", int64(1) << 62, 2, 0, "out of range"},
		{"uint64 overflow", uint64(1) << 63, 2, 0, "out of range"},
		{"bool", true, 2, 0, "cannot convert bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := helperCents(tt.in, tt.digits)
			requireResult(t, tt.want, tt.wantErr, got, err)
		})
	}
}

func TestHelpersInExpressions(t *testing.T) {
	paid := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	row := stream.Row{
		"email": "  Ann@Example.COM ", "total": stream.Numeric("19.99"), "nothing": nil,
		"paid_at": paid, "name": "Ann", "n": int64(3), "iso": "2026-03-04T05:06:07+01:00",
	}
	c := rowChange(stream.OpInsert, row, nil)
	tests := []struct {
		src     string
		want    any
		wantErr string
	}{
		{`lower(trim(new.email))`, "ann@example.com", ""},
		{`lower(new.nothing)`, nil, ""},
		{`trim(new.nothing)`, nil, ""},
		{`lower(new.n)`, nil, "lower: want a string, got int64"},
		{`trim(new.n)`, nil, "trim: want a string, got int64"},
		{`cents(new.total)`, int64(1999), ""},
		{`cents(new.total, 3)`, int64(19990), ""},
		{`cents(new.total, 1)`, nil, "more than 1 decimal places"},
		{`cents(new.total, -1)`, nil, "digits must be an integer from 0 to 18"},
		{`coalesce(new.nothing, new.missing, "x", "y")`, "x", ""},
		{`coalesce(new.nothing)`, nil, ""},
		{`coalesce(new.name, "x")`, "Ann", ""},
		{`format("%s has %d", new.name, new.n)`, "Ann has 3", ""},
		{`format("%s", new.total)`, "19.99", ""},
		{`formatTime(new.paid_at, "2006-01-02 15:04")`, "2026-03-04 05:06", ""},
		{`formatTime(new.iso, "15:04 MST")`, "05:06 +0100", ""},
		{`formatTime(new.nothing, "2006")`, nil, ""},
		{`formatTime(new.name, "2006")`, nil, `parse time "Ann": want RFC 3339`},
		{`formatTime(new.n, "2006")`, nil, "want a time or an RFC 3339 string, got int64"},
		{`iso(new.paid_at)`, "2026-03-04T04:06:07Z", ""},
		{`iso(new.iso)`, "2026-03-04T04:06:07Z", ""},
		{`iso(new.nothing)`, nil, ""},
		{`committed`, time.Time{}, ""},
		{`new.nothing ?? "default"`, "default", ""},
		{`'=literal'`, "=literal", ""},
		{`string(new.n)`, "3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := runExpr(t, tt.src, c)
			requireResult(t, tt.want, tt.wantErr, got, err)
		})
	}
}

func TestNowIsNotAvailable(t *testing.T) {
	_, _, err := compileExpr(`now()`, exprOptions())
	require.ErrorContains(t, err, "unknown name now")
}

func TestChanged(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		c       *stream.Change
		want    bool
		wantErr string
	}{
		{"insert", rowChange(stream.OpInsert, stream.Row{"a": 1}, nil), true, ""},
		{"snapshot", rowChange(stream.OpSnapshot, stream.Row{"a": 1}, nil), true, ""},
		{"delete", rowChange(stream.OpDelete, nil, stream.Row{"a": 1}), true, ""},
		{"update same", rowChange(stream.OpUpdate, stream.Row{"a": "x"}, stream.Row{"a": "x"}), false, ""},
		{"update differs", rowChange(stream.OpUpdate, stream.Row{"a": "y"}, stream.Row{"a": "x"}), true, ""},
		{"update to null", rowChange(stream.OpUpdate, stream.Row{"a": nil}, stream.Row{"a": "x"}), true, ""},
		{"null to null", rowChange(stream.OpUpdate, stream.Row{"a": nil}, stream.Row{"a": nil}), false, ""},
		{"same instant other zone", rowChange(stream.OpUpdate, stream.Row{"a": ts.In(time.FixedZone("x", 7200))}, stream.Row{"a": ts}), false, ""},
		{"bytes same", rowChange(stream.OpUpdate, stream.Row{"a": []byte("x")}, stream.Row{"a": []byte("x")}), false, ""},
		{"json differs", rowChange(stream.OpUpdate, stream.Row{"a": map[string]any{"k": 1}}, stream.Row{"a": map[string]any{"k": 2}}), true, ""},
		{"numeric same", rowChange(stream.OpUpdate, stream.Row{"a": stream.Numeric("1.50")}, stream.Row{"a": stream.Numeric("1.50")}), false, ""},
		{"numeric same value, other scale", rowChange(stream.OpUpdate, stream.Row{"a": stream.Numeric("1.5")}, stream.Row{"a": stream.Numeric("1.50")}), false, ""},
		{"numeric differs", rowChange(stream.OpUpdate, stream.Row{"a": stream.Numeric("1.51")}, stream.Row{"a": stream.Numeric("1.50")}), true, ""},
		{"NaN unchanged", rowChange(stream.OpUpdate, stream.Row{"a": stream.Numeric("NaN")}, stream.Row{"a": stream.Numeric("NaN")}), false, ""},
		{"no old row", rowChange(stream.OpUpdate, stream.Row{"a": 1}, nil), false, "server sent no old value"},
		{"key-only old row", &stream.Change{Op: stream.OpUpdate, Table: "public.t", New: stream.Row{"a": 1, "id": 1}, Old: stream.Row{"id": 1}, OldIsKey: true}, false, "REPLICA IDENTITY FULL on public.t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runExpr(t, `changed("a")`, tt.c)
			requireResult(t, tt.want, tt.wantErr, got, err)
		})
	}
}

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		in      any
		wantErr string
	}{
		{"ann@example.com", ""},
		{"a+tag@sub.example.co", ""},
		{nil, "email is null"},
		{"", "email is empty"},
		{int64(1), "email must be a string, got int64"},
		{"ann.example.com", "want exactly one @"},
		{"a@b@c", "want exactly one @"},
		{"@example.com", "want exactly one @"},
		{"ann@", "want exactly one @"},
		{"ann@.com", "want exactly one @"},
		{"ann@example.", "want exactly one @"},
		{"ann @example.com", "spaces, control or non-ASCII"},
		{"änn@example.com", "spaces, control or non-ASCII"},
		{"ann@exa\tmple.com", "spaces, control or non-ASCII"},
	}
	for _, tt := range tests {
		got, err := checkEmail(tt.in)
		requireResult(t, tt.in, tt.wantErr, got, err)
	}
}

func TestOutput(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr string
	}{
		{"int", 3, int64(3), ""},
		{"numeric", stream.Numeric("1.5"), stream.Numeric("1.5"), ""},
		{"numeric nan", stream.Numeric("NaN"), nil, "numeric value NaN cannot be sent"},
		{"numeric inf", stream.Numeric("-Infinity"), nil, "cannot be sent"},
		{"float nan", math.NaN(), nil, "number NaN cannot be sent"},
		{"float inf", math.Inf(1), nil, "number +Inf cannot be sent"},
		{"float", 1.5, 1.5, ""},
		{"bytea", []byte("x"), nil, "bytea value cannot be sent"},
		{"unchanged", stream.Unchanged, nil, "unchanged TOAST value; set REPLICA IDENTITY FULL"},
		{"nested bad", map[string]any{"a": []any{1, stream.Unchanged}}, nil, "a: [1]: value is an unchanged TOAST"},
		{"nested ok", map[string]any{"a": []any{1}}, map[string]any{"a": []any{int64(1)}}, ""},
		{"struct", struct{}{}, nil, "a struct {} value cannot be sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := output(tt.in)
			requireResult(t, tt.want, tt.wantErr, got, err)
		})
	}
}

// requireResult checks a (value, error) pair against a table row: an error
// containing wantErr, or no error and want.
func requireResult(t *testing.T, want any, wantErr string, got any, err error) {
	t.Helper()
	if wantErr != "" {
		require.ErrorContains(t, err, wantErr, "want error for %v", want)
		return
	}
	require.NoError(t, err)
	require.Equal(t, want, got)
}
