package rules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/pgbento/cdc/internal/pgvalue"
	"github.com/pgbento/cdc/internal/stream"
)

// Evaluator runs a Set over changes. It holds per-goroutine state (the
// expression VM, the env, the lookup cache): use one per goroutine.
type Evaluator struct {
	set    *Set
	q      Querier
	vm     vm.VM
	env    env
	change *stream.Change // the change being evaluated, for changed()
	cache  *lookupCache
	noRow  []string // lookups of the current rule that found no row
	values pgvalue.Decoder
}

// NewEvaluator returns an Evaluator for s. q runs lookups; it may be nil
// when no rule has any.
func NewEvaluator(s *Set, q Querier) *Evaluator {
	e := &Evaluator{set: s, q: q, cache: newLookupCache(), values: pgvalue.New()}
	e.env.Changed = e.changed
	e.env.Lookup = map[string]any{}
	return e
}

// Evaluate appends to dst the items the rules make of c, in rule order: an
// ItemEvent per event, an ItemFailure per row a dead_letter rule could not
// turn into an event. A stop rule's failure returns a *RuleError; a lookup
// that could not run returns an error wrapping ErrLookup (retry the change
// later). On error dst comes back as it was given.
//
// Every rule whose table, operation and when match takes the next ordinal,
// even when it fails or skips, so ordinals depend only on the row and the
// rule file. The event's Pos.Sub is its ordinal; rules whose ordinal is at
// most c.Pos.Sub were delivered before a restart and are dropped.
func (e *Evaluator) Evaluate(ctx context.Context, c *stream.Change, dst []stream.Item) ([]stream.Item, error) {
	if !isRowOp(c.Op) {
		return dst, nil
	}
	if c.Op != stream.OpSnapshot {
		for _, l := range e.set.readers[c.Table] {
			e.cache.invalidate(l) // the row a lookup cached may be this one, before this change
		}
	}
	e.setChange(c)
	defer e.setChange(nil)
	start, ordinal := len(dst), 0
	for _, r := range e.set.rules {
		if !r.applies(c) {
			continue
		}
		matched, err := e.match(r, c)
		if err == nil && !matched {
			continue
		}
		ordinal++
		if ordinal <= c.Pos.Sub {
			continue
		}
		pos := c.Pos
		pos.Sub = ordinal
		var ev *stream.Event
		if err == nil {
			ev, err = e.build(ctx, r, c, pos)
		}
		if err == nil {
			dst = append(dst, stream.Item{Kind: stream.ItemEvent, Pos: pos, Event: ev})
			continue
		}
		if errors.Is(err, ErrLookup) {
			return dst[:start], err
		}
		switch r.onError {
		case Skip:
		case Stop:
			return dst[:start], &RuleError{Rule: r.name, Table: c.Table, Key: c.KeyString(), Pos: pos, Err: err}
		default:
			dst = append(dst, stream.Item{Kind: stream.ItemFailure, Pos: pos, Failure: failure(r, c, pos, ev, err)})
		}
	}
	return dst, nil
}

func isRowOp(op stream.Op) bool {
	return op == stream.OpInsert || op == stream.OpUpdate || op == stream.OpDelete || op == stream.OpSnapshot
}

func (e *Evaluator) setChange(c *stream.Change) {
	e.change = c
	if c == nil {
		e.env.New, e.env.Old = nil, nil
		return
	}
	e.env.Op = c.Op.String()
	e.env.Table = c.Table
	e.env.New = c.New
	e.env.Old = c.Old
	e.env.Committed = c.CommitTime
}

func (r *rule) applies(c *stream.Change) bool {
	if !r.ops[c.Op] {
		return false
	}
	for _, t := range r.tables {
		if t == c.Table {
			return true
		}
	}
	return false
}

// match checks that the columns the rule reads are known, then runs when.
func (e *Evaluator) match(r *rule, c *stream.Change) (bool, error) {
	if err := r.checkColumns(c); err != nil {
		return false, err
	}
	if r.when == nil {
		return true, nil
	}
	out, err := e.run(r.when)
	if err != nil {
		return false, fmt.Errorf("%s.when: %w", r.path, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("%s: when must be true or false, got %s", r.path, describe(out))
	}
	return b, nil
}

// exprLocation is the " (line:column)" expr appends to a message.
var exprLocation = regexp.MustCompile(`\s*\(\d+:\d+\)$`)

// run evaluates a program against the current env. Only expr's message is
// kept: the location and source excerpt are noise in a dead letter, whose
// reason names the YAML path instead.
func (e *Evaluator) run(p *vm.Program) (any, error) {
	out, err := e.vm.Run(p, &e.env)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, errors.New(exprLocation.ReplaceAllString(msg, ""))
	}
	return out, nil
}

// changed is the changed(col) expression function: true on insert, snapshot
// and delete (the value appeared or went away), old != new on update.
func (e *Evaluator) changed(col string) (bool, error) {
	c := e.change
	if c.Op != stream.OpUpdate {
		return true, nil
	}
	if err := checkNew(c, col); err != nil {
		return false, fmt.Errorf("changed(%q): %w", col, err)
	}
	if err := checkOld(c, col); err != nil {
		return false, fmt.Errorf("changed(%q): %w", col, err)
	}
	return !equalValues(c.Old[col], c.New[col]), nil
}
