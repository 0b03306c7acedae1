package rules

import (
	"context"
	"fmt"

	"github.com/pgbento/cdc/internal/stream"
)

// Rebuild evaluates a stored change (stream.MarshalChange's form, as a rule
// dead letter keeps it) with the current rules and returns the events of
// the named rule only: the other rules already ran for it. It is how a rule
// dead letter is replayed, by `cdc dlq replay` or by the running syncer it
// hands the replay to.
func (e *Evaluator) Rebuild(ctx context.Context, change []byte, rule string) ([]*stream.Event, error) {
	c, err := stream.UnmarshalChange(change)
	if err != nil {
		return nil, err
	}
	c.Pos.Sub = 0
	items, err := e.Evaluate(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	var evs []*stream.Event
	for _, it := range items {
		switch {
		case it.Kind == stream.ItemFailure && it.Failure.Rule == rule:
			return nil, fmt.Errorf("rule %q still fails: %s", rule, it.Failure.Reason)
		case it.Kind == stream.ItemEvent && it.Event.Rule == rule:
			evs = append(evs, it.Event)
		}
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("rule %q no longer produces an event for this row; discard it if that is intended", rule)
	}
	return evs, nil
}
