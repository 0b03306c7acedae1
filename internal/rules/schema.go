package rules

import (
	"fmt"
	"slices"

	"github.com/pgbento/cdc/internal/stream"
)

// ColumnRef is a column a rule reads, for checking rules against the live
// schema.
type ColumnRef struct {
	Table  string // schema-qualified
	Column string
	Old    bool   // read from the old row (old.X, or changed("X"))
	Rule   string // the rule's name
	Path   string // YAML path of the expression, e.g. "rules[0].when"
}

// Tables returns the schema-qualified tables the rules use, sorted: the
// tables the publication must include.
func (s *Set) Tables() []string {
	return slices.Clone(s.tables)
}

// HasLookups reports whether any rule has a lookup, i.e. whether the
// Evaluator needs a Querier.
func (s *Set) HasLookups() bool {
	for _, r := range s.rules {
		if len(r.lookups) > 0 {
			return true
		}
	}
	return false
}

// Columns returns every column reference of the rules on table.
func (s *Set) Columns(table string) []ColumnRef {
	return s.refs(table, func(r *rule) []colRef { return r.cols })
}

// CentsColumns returns the columns of table that the rules pass to
// cents(), for checking them against the live column types.
func (s *Set) CentsColumns(table string) []ColumnRef {
	return s.refs(table, func(r *rule) []colRef { return r.cents })
}

// refs returns the column references pick selects from each rule on table.
func (s *Set) refs(table string, pick func(*rule) []colRef) []ColumnRef {
	var out []ColumnRef
	for _, r := range s.rules {
		if !slices.Contains(r.tables, table) {
			continue
		}
		for _, c := range pick(r) {
			out = append(out, ColumnRef{Table: table, Column: c.column, Old: c.old, Rule: r.name, Path: c.path})
		}
	}
	return out
}

// ReadsOld returns the names of the rules that read old values of table
// on update or delete; table needs REPLICA IDENTITY FULL for them.
func (s *Set) ReadsOld(table string) []string {
	var out []string
	for _, r := range s.rules {
		if len(r.oldCols) > 0 && slices.Contains(r.tables, table) &&
			(r.ops[stream.OpUpdate] || r.ops[stream.OpDelete]) {
			out = append(out, r.name)
		}
	}
	return out
}

// CheckSchema checks the rules against the live schema: cols maps each
// schema-qualified table to its column names. It reports every unknown
// table and column, naming rule and path.
func (s *Set) CheckSchema(cols map[string][]string) error {
	var errs Errors
	for i, r := range s.rules {
		for _, t := range r.tables {
			live, ok := cols[t]
			if !ok {
				errs = append(errs, &FieldError{Rule: r.name, Path: fmt.Sprintf("rules[%d].table", i),
					Msg: fmt.Sprintf("table %s does not exist or is not visible to the syncer's user", t)})
				continue
			}
			reported := map[colRef]bool{}
			for _, c := range r.cols {
				c.old = false // one report per column and path, whichever row it reads
				if !slices.Contains(live, c.column) && !reported[c] {
					reported[c] = true
					errs = append(errs, &FieldError{Rule: r.name, Path: c.path,
						Msg: fmt.Sprintf("table %s has no column %q", t, c.column)})
				}
			}
		}
	}
	return errs.orNil()
}

// SnapshotTables returns the tables, sorted, that have a rule firing on
// snapshot: what a resync after a lost slot backfills (issue 12).
func (s *Set) SnapshotTables() []string {
	var out []string
	for _, r := range s.rules {
		for _, t := range r.tables {
			if r.ops[stream.OpSnapshot] && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}

// PurchaseTables returns the tables, sorted, that have a $purchase rule
// firing on snapshot: the rows reconcile evaluates.
func (s *Set) PurchaseTables() []string {
	var out []string
	for _, r := range s.rules {
		if !r.event.purchase || !r.ops[stream.OpSnapshot] {
			continue
		}
		for _, t := range r.tables {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}

// CheckGenerated reports every rule that reads a generated column while
// streaming: pgoutput (Postgres 12-17) never sends generated columns, so
// such a rule fails on every row (issue 10.2). generated maps each
// schema-qualified table to its generated columns. A rule that runs only on
// snapshot reads them through a SELECT, which has them, and is not reported.
func (s *Set) CheckGenerated(generated map[string][]string) error {
	var errs Errors
	for _, r := range s.rules {
		if !r.ops[stream.OpInsert] && !r.ops[stream.OpUpdate] && !r.ops[stream.OpDelete] {
			continue
		}
		for _, t := range r.tables {
			reported := map[colRef]bool{}
			for _, c := range r.cols {
				c.old = false
				if !slices.Contains(generated[t], c.column) || reported[c] {
					continue
				}
				reported[c] = true
				errs = append(errs, &FieldError{Rule: r.name, Path: c.path, Msg: fmt.Sprintf(
					"column %q of %s is generated, and logical replication does not send generated columns: "+
						"compute the value in the expression from the columns it is generated from, or read it through a lookup",
					c.column, t)})
			}
		}
	}
	return errs.orNil()
}
