package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
		case it.Kind == stream.ItemFailure && it.Failure.Rule == rule && it.Failure.IdentityGap:
			return nil, fmt.Errorf("rule %q cannot replay this dead letter: %s; the stored change lacks those values for good "+
				"(the replica identity when it was written), so fixing the identity helps later changes only: if the row "+
				"still needs its events, send its current state with cdc backfill --table %s --where %q (rules that run on "+
				"snapshot), then cdc dlq discard this dead letter", rule, it.Failure.Reason, c.Table, keyCondition(c))
		case it.Kind == stream.ItemFailure && it.Failure.Rule == rule:
			return nil, fmt.Errorf("rule %q still fails: %s", rule, it.Failure.Reason)
		case it.Kind == stream.ItemEvent && it.Event.Rule == rule:
			evs = append(evs, it.Event)
		}
	}
	if len(evs) == 0 {
		return nil, e.set.noEventReason(c, rule)
	}
	return evs, nil
}

// noEventReason says why rule produced nothing for the stored change c, and
// what to do: a rule removed from the config, a rule that now reads another
// table (the table was renamed: the stored row is not replayed against
// another table, its current state is backfilled), or the rule's when.
func (s *Set) noEventReason(c *stream.Change, name string) error {
	i := slices.IndexFunc(s.rules, func(r *rule) bool { return r.name == name })
	if i < 0 {
		return fmt.Errorf("rule %q is no longer in the config; discard this dead letter if that is intended", name)
	}
	r := s.rules[i]
	if !slices.Contains(r.tables, c.Table) {
		return fmt.Errorf("rule %q now reads %s, not %s where this row was stored (a renamed table?): a stored row is "+
			"not replayed against another table; send the row's current state with "+
			"cdc backfill --table %s --where %q, then cdc dlq discard this dead letter",
			name, strings.Join(r.tables, ", "), c.Table, r.tables[0], keyCondition(c))
	}
	return fmt.Errorf("rule %q no longer produces an event for this row; discard it if that is intended", name)
}

// keyCondition is the SQL condition selecting c's row by its key columns.
func keyCondition(c *stream.Change) string {
	row := c.New
	if row == nil {
		row = c.Old
	}
	parts := make([]string, 0, len(c.Key))
	for _, k := range c.Key {
		v := fmt.Sprint(row[k])
		if t, ok := row[k].(time.Time); ok { // Go's default form is no timestamp Postgres reads
			v = t.Format(time.RFC3339Nano)
		}
		parts = append(parts, columnSQL(k)+" = '"+strings.ReplaceAll(v, "'", "''")+"'")
	}
	return strings.Join(parts, " AND ")
}

// columnSQL is a column name as SQL reads it: bare when lower-case, quoted
// otherwise.
func columnSQL(k string) string {
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return pgx.Identifier{k}.Sanitize()
		}
	}
	return k
}
