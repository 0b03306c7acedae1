package stream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// changeJSON is the stored form of a Change (dead letters keep it so a
// fixed rule can replay the row). It is readable JSON, and Types records the
// Go type of every value that JSON alone would lose, so UnmarshalChange gives
// back exactly the values the rules saw.
type changeJSON struct {
	Op         string            `json:"op"`
	Table      string            `json:"table,omitempty"`
	Key        []string          `json:"key,omitempty"`
	Columns    []string          `json:"columns,omitempty"`
	New        map[string]any    `json:"new,omitempty"`
	Old        map[string]any    `json:"old,omitempty"`
	OldIsKey   bool              `json:"old_is_key,omitempty"`
	CommitTime time.Time         `json:"commit_time"`
	Xid        uint32            `json:"xid,omitempty"`
	CommitLSN  string            `json:"commit_lsn,omitempty"`
	Index      int               `json:"index"`
	Types      map[string]string `json:"types,omitempty"` // "new.total" -> "numeric"
}

// MarshalChange encodes c for storage. Every value a Row can hold encodes
// (NaN and infinite floats as strings), so the only errors are a caller's
// foreign types.
func MarshalChange(c *Change) ([]byte, error) {
	j := changeJSON{Op: c.Op.String(), Table: c.Table, Key: c.Key, Columns: c.Columns, OldIsKey: c.OldIsKey,
		CommitTime: c.CommitTime, Xid: c.Xid, Index: c.Pos.Index, Types: map[string]string{}}
	if c.Pos.CommitLSN != 0 {
		j.CommitLSN = c.Pos.CommitLSN.String()
	}
	j.New = encodeRow(c.New, "new", j.Types)
	j.Old = encodeRow(c.Old, "old", j.Types)
	return json.Marshal(j)
}

func encodeRow(r Row, prefix string, types map[string]string) map[string]any {
	if r == nil {
		return nil
	}
	out := make(map[string]any, len(r))
	for k, v := range r {
		enc, typ := encodeValue(v)
		out[k] = enc
		if typ != "" {
			types[prefix+"."+k] = typ
		}
	}
	return out
}

// encodeValue returns v's JSON form and, when JSON would lose it, its type.
func encodeValue(v any) (any, string) {
	switch x := v.(type) {
	case Numeric:
		return string(x), "numeric"
	case time.Time:
		if y := x.Year(); y < 0 || y > 9999 {
			// RFC 3339 has four-digit years; Postgres has 4713 BC to 294276 AD.
			return strconv.FormatInt(x.Unix(), 10) + "." + strconv.Itoa(x.Nanosecond()), "unixtime"
		}
		return x.Format(time.RFC3339Nano), "time"
	case []byte:
		return base64.StdEncoding.EncodeToString(x), "bytes"
	case int64:
		return x, "int"
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64), "float" // JSON has no NaN
		}
		return x, "float"
	case []any:
		out := make([]any, len(x))
		elem := ""
		for i, e := range x {
			var t string
			out[i], t = encodeValue(e)
			if t != "" {
				elem = t
			}
		}
		return out, "array:" + elem
	}
	if IsUnchanged(v) {
		return nil, "unchanged"
	}
	if u, ok := AsUnrepresentable(v); ok {
		return u.Reason, "unrepresentable"
	}
	return v, ""
}

// UnmarshalChange decodes what MarshalChange wrote.
func UnmarshalChange(b []byte) (*Change, error) {
	var j changeJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&j); err != nil {
		return nil, fmt.Errorf("decode change: %w", err)
	}
	op, ok := ParseOp(j.Op)
	if !ok {
		return nil, fmt.Errorf("decode change: unknown op %q", j.Op)
	}
	c := &Change{Op: op, Table: j.Table, Key: j.Key, Columns: j.Columns, OldIsKey: j.OldIsKey, CommitTime: j.CommitTime, Xid: j.Xid}
	c.Pos.Index = j.Index
	if j.CommitLSN != "" {
		lsn, err := ParseLSN(j.CommitLSN)
		if err != nil {
			return nil, fmt.Errorf("decode change: %w", err)
		}
		c.Pos.CommitLSN = lsn
	}
	var err error
	if c.New, err = decodeRow(j.New, "new", j.Types); err != nil {
		return nil, err
	}
	if c.Old, err = decodeRow(j.Old, "old", j.Types); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeRow(m map[string]any, prefix string, types map[string]string) (Row, error) {
	if m == nil {
		return nil, nil
	}
	r := make(Row, len(m))
	for k, v := range m {
		dv, err := decodeValue(v, types[prefix+"."+k])
		if err != nil {
			return nil, fmt.Errorf("decode change: %s.%s: %w", prefix, k, err)
		}
		r[k] = dv
	}
	return r, nil
}

func decodeValue(v any, typ string) (any, error) {
	switch typ {
	case "unchanged":
		return Unchanged, nil
	case "unrepresentable":
		s, _ := v.(string)
		return Unrepresentable{Reason: s}, nil
	}
	if v == nil {
		return nil, nil
	}
	if len(typ) > 6 && typ[:6] == "array:" || typ == "array:" {
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want an array, got %T", v)
		}
		out := make([]any, len(list))
		for i, e := range list {
			var err error
			if out[i], err = decodeValue(e, typ[6:]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	s, _ := v.(string)
	n, _ := v.(json.Number)
	switch typ {
	case "numeric":
		return Numeric(s), nil
	case "time", "unixtime": // an array's elements may mix both forms
		if strings.Contains(s, "T") {
			return time.Parse(time.RFC3339Nano, s)
		}
		return parseUnixTime(s)
	case "bytes":
		return base64.StdEncoding.DecodeString(s)
	case "int":
		return n.Int64()
	case "float":
		if s != "" {
			return strconv.ParseFloat(s, 64)
		}
		return n.Float64()
	}
	return v, nil
}

// parseUnixTime parses the "seconds.nanoseconds" form of a time outside
// RFC 3339's years.
func parseUnixTime(s string) (time.Time, error) {
	sec, nsec, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	nanos, err := strconv.ParseInt(nsec, 10, 64)
	if err != nil || nanos < 0 || nanos >= 1e9 {
		return time.Time{}, fmt.Errorf("parse time %q: bad nanoseconds", s)
	}
	return time.Unix(secs, nanos).UTC(), nil
}
