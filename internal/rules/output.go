package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

var errUnchangedValue error = &identityError{"value is an unchanged TOAST value; set REPLICA IDENTITY FULL on the table"}

// output checks that v is something Bento can take and normalizes it
// (integers to int64, maps and lists copied so an event never aliases a row).
func output(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64, json.Number, time.Time:
		return v, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d is out of range", x)
		}
		return int64(x), nil
	case float64:
		return finite(x)
	case float32:
		return finite(float64(x))
	case stream.Numeric:
		if strings.ContainsAny(string(x), "nNiI") {
			return nil, fmt.Errorf("numeric value %s cannot be sent to Bento", string(x))
		}
		return x, nil
	case map[string]any:
		return outputMap(x)
	case []any:
		return outputList(x)
	case []byte:
		return nil, fmt.Errorf("bytea value cannot be sent to Bento; convert it to a string")
	}
	if stream.IsUnchanged(v) {
		return nil, errUnchangedValue
	}
	return nil, fmt.Errorf("a %T value cannot be sent to Bento", v)
}

func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v cannot be sent to Bento", f)
	}
	return f, nil
}

func outputMap(m map[string]any) (any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		o, err := output(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = o
	}
	return out, nil
}

func outputList(l []any) (any, error) {
	out := make([]any, len(l))
	for i, v := range l {
		o, err := output(v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = o
	}
	return out, nil
}

// checkEmail rejects what Bento would reject or misfile: empty, spaces,
// not exactly one @, empty local part or domain, control or non-ASCII bytes.
func checkEmail(v any) (string, error) {
	s, ok := v.(string)
	switch {
	case v == nil:
		return "", errors.New("email is null")
	case !ok:
		return "", fmt.Errorf("email must be a string, got %T", v)
	case s == "":
		return "", errors.New("email is empty")
	}
	local, domain, found := strings.Cut(s, "@")
	if !found || local == "" || domain == "" || strings.Contains(domain, "@") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", errors.New("email is malformed: want exactly one @ between a local part and a domain")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", errors.New("email is malformed: spaces, control or non-ASCII characters")
		}
	}
	return s, nil
}
