package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pgbento/cdc/internal/stream"
)

// FieldError is one load-time problem, located by rule name and YAML path
// (e.g. "rules[2].event.email") so the config loader can name file and line.
// It is the FieldError every config section reports.
type FieldError = stream.FieldError

// Errors is every load-time problem found, in rule order.
type Errors []*FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// orNil returns es as an error, or nil when it is empty, so callers never
// get a non-nil error interface holding an empty list.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// ErrLookup marks a lookup query that failed for a reason other than the
// row (connection lost, server shutting down): the caller should retry the
// change later rather than dead-letter it.
var ErrLookup = errors.New("lookup query failed")

// RuleError is a per-row failure of a rule whose on_error is stop.
type RuleError struct {
	Rule  string
	Table string
	Key   string
	Pos   stream.Position
	Err   error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("rule %q on %s (%s) at %s: %v (on_error: stop: a restart meets the same row again, "+
		"as the stream and a backfill read it as it was; fix the rule, or set its on_error to dead_letter to "+
		"store the row as a dead letter and go on)", e.Rule, e.Table, e.Key, e.Pos, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }
