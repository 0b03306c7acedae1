package rules

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// failure builds the dead letter for a change rule r could not handle.
func failure(r *rule, c *stream.Change, pos stream.Position, ev *stream.Event, err error) *stream.Failure {
	f := &stream.Failure{
		Pos: pos, Rule: r.name, Table: c.Table, Key: c.KeyString(),
		Reason: err.Error(),
		Change: changeBytes(c),
	}
	var gap *identityError
	f.IdentityGap = errors.As(err, &gap)
	if ev != nil {
		f.Event = eventJSON(ev)
	}
	return f
}

// changeBytes stores the change in stream's replayable form, which every
// row value can take.
func changeBytes(c *stream.Change) []byte {
	b, err := stream.MarshalChange(c)
	if err != nil {
		return []byte(`{"error":` + jsonString(err.Error()) + `}`)
	}
	return b
}

type eventDoc struct {
	Type    string         `json:"type"`
	Email   string         `json:"email,omitempty"`
	Source  string         `json:"source,omitempty"`
	Date    time.Time      `json:"date,omitzero"`
	Fields  map[string]any `json:"fields,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// eventJSON renders the event as far as it was built.
func eventJSON(ev *stream.Event) []byte {
	b, err := json.Marshal(eventDoc{
		Type: ev.Type, Email: ev.Email, Source: ev.Source, Date: ev.Date,
		Fields: jsonRow(ev.Fields), Details: jsonRow(ev.Details),
	})
	if err != nil {
		return nil
	}
	return b
}

func jsonRow(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonValue(v)
	}
	return out
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return stream.Numeric(jsonFloat(x))
		}
	case map[string]any:
		return jsonRow(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	if stream.IsUnchanged(v) {
		return "<unchanged>"
	}
	return v
}

func jsonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

func jsonString(s string) string {
	b, _ := json.Marshal(strings.ToValidUTF8(s, "?"))
	return string(b)
}
