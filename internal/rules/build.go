package rules

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// build runs r's lookups and event values. On error it returns the event as
// far as it got, for the dead letter.
func (e *Evaluator) build(ctx context.Context, r *rule, c *stream.Change, pos stream.Position) (*stream.Event, error) {
	ev := &stream.Event{
		Pos: pos, Rule: r.name, Table: c.Table, Key: c.KeyString(),
		Source: r.event.source, Type: r.event.typ,
		Date: c.CommitTime, Committed: c.CommitTime,
	}
	if err := e.runLookups(ctx, r); err != nil {
		return ev, err
	}
	if err := e.buildEvent(ev, r); err != nil {
		if len(e.noRow) > 0 {
			err = fmt.Errorf("%w (lookup %s found no row)", err, strings.Join(e.noRow, ", "))
		}
		return ev, err
	}
	return ev, nil
}

// buildEvent fills ev from r's event values.
func (e *Evaluator) buildEvent(ev *stream.Event, r *rule) error {
	spec := &r.event
	if err := e.buildEmail(ev, spec); err != nil {
		return err
	}
	if spec.newEmail != nil {
		v, err := e.eval(spec.newEmail)
		if err != nil {
			return err
		}
		if ev.NewEmail, err = checkEmail(v); err != nil {
			return fmt.Errorf("%s: %w", spec.newEmail.path, err)
		}
	}
	if err := e.buildDate(ev, spec); err != nil {
		return err
	}
	if err := e.buildFields(ev, spec); err != nil {
		return err
	}
	if err := e.buildDetails(ev, spec); err != nil {
		return err
	}
	if spec.purchase {
		return checkPurchase(ev.Details, spec.details)
	}
	return nil
}

// eval returns a value's literal or runs its expression, and checks that
// the result is something Bento can take. Errors name the YAML path.
func (e *Evaluator) eval(v *value) (any, error) {
	if v.prog == nil {
		return v.lit, nil
	}
	var out any
	var err error
	if v.col != nil {
		out = v.col.read(e)
	} else {
		out, err = e.run(v.prog)
	}
	if err == nil {
		out, err = output(out)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.path, err)
	}
	return out, nil
}

func (e *Evaluator) buildEmail(ev *stream.Event, spec *event) error {
	v, err := e.eval(&spec.email)
	if err != nil {
		return err
	}
	ev.Email, err = checkEmail(v)
	if err != nil {
		return fmt.Errorf("%s: %w", spec.email.path, err)
	}
	return nil
}

func (e *Evaluator) buildDate(ev *stream.Event, spec *event) error {
	if spec.date == nil {
		return nil
	}
	v, err := e.eval(spec.date)
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%s: date is null (use coalesce(..., committed) for the commit time)", spec.date.path)
	}
	t, err := toTime(v)
	if err != nil {
		return fmt.Errorf("%s: %w", spec.date.path, err)
	}
	ev.Date = t
	return nil
}

func (e *Evaluator) buildFields(ev *stream.Event, spec *event) error {
	if len(spec.fields) == 0 {
		return nil
	}
	ev.Fields = make(map[string]any, len(spec.fields))
	for i := range spec.fields {
		f := &spec.fields[i]
		v, err := e.eval(&f.val)
		if err != nil {
			return err
		}
		switch v.(type) {
		case map[string]any, []any:
			return fmt.Errorf("%s: fields must be flat, got a %T; put nested data in details", f.val.path, v)
		}
		ev.Fields[f.name] = v
	}
	return nil
}

func (e *Evaluator) buildDetails(ev *stream.Event, spec *event) error {
	if spec.details == nil {
		return nil
	}
	v, err := e.evalTree(spec.details)
	if err != nil {
		return err
	}
	ev.Details = v.(map[string]any)
	return nil
}

func (e *Evaluator) evalTree(t *tree) (any, error) {
	switch {
	case t.leaf != nil:
		return e.eval(t.leaf)
	case t.isMap:
		m := make(map[string]any, len(t.keys))
		for i, k := range t.keys {
			v, err := e.evalTree(t.kids[i])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	default:
		l := make([]any, len(t.list))
		for i, kid := range t.list {
			v, err := e.evalTree(kid)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
}

// checkPurchase enforces at run time what Compile could not see in
// expressions: Bento counts a purchase's revenue once per unique key, and
// only with an integer amount in minor units and a currency.
func checkPurchase(details map[string]any, spec *tree) error {
	unique, _ := details["unique"].(map[string]any)
	val, _ := details["value"].(map[string]any)
	if k, ok := unique["key"].(string); !ok || k == "" {
		return fmt.Errorf("%s: details.unique.key must be a non-empty string, got %s (use string(...))", spec.find("unique", "key").path, describe(unique["key"]))
	}
	if _, ok := val["amount"].(int64); !ok {
		return fmt.Errorf("%s: details.value.amount must be an integer in minor units, got %s (use cents(...))", spec.find("value", "amount").path, describe(val["amount"]))
	}
	if cur, ok := val["currency"].(string); !ok || cur == "" {
		return fmt.Errorf("%s: details.value.currency must be a non-empty string, got %s", spec.find("value", "currency").path, describe(val["currency"]))
	}
	return nil
}

func describe(v any) string {
	if v == nil {
		return "null"
	}
	if s, ok := v.(string); ok && s == "" {
		return "an empty string"
	}
	return fmt.Sprintf("a %T", v)
}

// equalValues compares column values by meaning, not representation.
func equalValues(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if c, ok := cmpNumbers(a, b); ok { // as == compares them (compare.go): 19.9 and 19.90 are equal
		return c == 0
	}
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []byte, map[string]any, []any:
		return reflect.DeepEqual(a, b)
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) || !reflect.TypeOf(a).Comparable() {
		return reflect.DeepEqual(a, b)
	}
	return a == b
}
