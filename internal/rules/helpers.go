package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/expr-lang/expr"

	"github.com/pgbento/cdc/internal/stream"
)

// helperOptions registers the helper functions (documented in the README's
// rule reference). String and time helpers pass null through so a nullable
// column can flow into coalesce; cents rejects null because a missing
// amount must never become a zero one.
func helperOptions() []expr.Option {
	return []expr.Option{
		expr.Function("cents", helperCents, new(func(any) int64), new(func(any, int) int64)),
		expr.Function("lower", stringHelper("lower", strings.ToLower), new(func(string) string)),
		expr.Function("trim", stringHelper("trim", strings.TrimSpace), new(func(string) string)),
		expr.Function("coalesce", helperCoalesce),
		expr.Function("format", helperFormat, new(func(string, ...any) string)),
		expr.Function("formatTime", helperFormatTime, new(func(any, string) string)),
		expr.Function("iso", helperISO, new(func(any) string)),
	}
}

// helperCents converts an exact decimal to integer minor units:
// cents(x) = x*100, cents(x, d) = x*10^d. It never rounds: a value with
// more non-zero decimals than d is an error.
func helperCents(params ...any) (any, error) {
	digits := 2
	if len(params) == 2 {
		d, ok := params[1].(int)
		if !ok || d < 0 || d > 18 {
			return nil, fmt.Errorf("cents: digits must be an integer from 0 to 18, got %v", params[1])
		}
		digits = d
	}
	return cents(params[0], digits)
}

func cents(v any, digits int) (int64, error) {
	switch x := v.(type) {
	case stream.Numeric:
		return decimalCents(string(x), digits)
	case string:
		return decimalCents(x, digits)
	case json.Number:
		return decimalCents(string(x), digits)
	case int:
		return intCents(int64(x), digits)
	case int64:
		return intCents(x, digits)
	case int32:
		return intCents(int64(x), digits)
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("cents: %d is out of range", x)
		}
		return intCents(int64(x), digits)
	case float64, float32:
		return 0, fmt.Errorf("cents: %v is a float (real or double precision column); use a numeric column or cast it in a lookup", x)
	case nil:
		return 0, fmt.Errorf("cents: value is null")
	default:
		return 0, fmt.Errorf("cents: cannot convert %T", v)
	}
}

func intCents(x int64, digits int) (int64, error) {
	scale := pow10(digits)
	if x > math.MaxInt64/scale || x < math.MinInt64/scale {
		return 0, fmt.Errorf("cents: %d is out of range", x)
	}
	return x * scale, nil
}

func pow10(d int) int64 {
	p := int64(1)
	for range d {
		p *= 10
	}
	return p
}

// decimalCents shifts the decimal point of s right by digits, exactly.
func decimalCents(s string, digits int) (int64, error) {
	body, neg := strings.CutPrefix(s, "-")
	whole, frac, _ := strings.Cut(body, ".")
	if (whole == "" && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("cents: %q is not a decimal number", s)
	}
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return 0, fmt.Errorf("cents: %s has more than %d decimal places; round it explicitly (e.g. in a lookup) or pass more digits", s, digits)
		}
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	var n int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("cents: %s is out of range", s)
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func stringHelper(name string, f func(string) string) func(params ...any) (any, error) {
	return func(params ...any) (any, error) {
		switch x := params[0].(type) {
		case nil:
			return nil, nil
		case string:
			return f(x), nil
		default:
			return nil, fmt.Errorf("%s: want a string, got %T", name, x)
		}
	}
}

// helperCoalesce returns its first non-null argument, or null.
func helperCoalesce(params ...any) (any, error) {
	for _, p := range params {
		if p != nil {
			return p, nil
		}
	}
	return nil, nil
}

func helperFormat(params ...any) (any, error) {
	f, ok := params[0].(string)
	if !ok {
		return nil, fmt.Errorf("format: first argument must be a string, got %T", params[0])
	}
	return fmt.Sprintf(f, params[1:]...), nil
}

func helperFormatTime(params ...any) (any, error) {
	layout, ok := params[1].(string)
	if !ok {
		return nil, fmt.Errorf("formatTime: layout must be a string, got %T", params[1])
	}
	return withTime("formatTime", params[0], func(t time.Time) string { return t.Format(layout) })
}

// helperISO formats a time as RFC 3339 in UTC, the form Bento expects.
func helperISO(params ...any) (any, error) {
	return withTime("iso", params[0], func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) })
}

func withTime(name string, v any, f func(time.Time) string) (any, error) {
	if v == nil {
		return nil, nil
	}
	t, err := toTime(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f(t), nil
}

// toTime accepts a time.Time, an RFC 3339 string or a date (YYYY-MM-DD).
func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			// A date column's value (YYYY-MM-DD) is midnight UTC.
			if d, derr := time.Parse(time.DateOnly, x); derr == nil {
				return d, nil
			}
			return time.Time{}, fmt.Errorf("parse time %q: want RFC 3339 or a date (YYYY-MM-DD)", x)
		}
		return t, nil
	default:
		return time.Time{}, fmt.Errorf("want a time or an RFC 3339 string, got %T", v)
	}
}
