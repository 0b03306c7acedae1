package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgbento/cdc/internal/stream"
)

// checkColumns refuses to evaluate over values the syncer does not know,
// because reading any of them as NULL would emit a wrong event, or none,
// silently (issue 10): a column the change does not carry (renamed,
// dropped, generated), an unchanged TOAST value, an old value the server did
// not send, a value the decoder could not represent. Each is a row failure
// whose reason names the table, the column and the remedy.
func (r *rule) checkColumns(c *stream.Change) error {
	if c.New != nil {
		for _, col := range r.newCols {
			if err := checkNew(c, col); err != nil {
				return err
			}
		}
		if r.newRow {
			if err := checkRow(c, c.New, ""); err != nil {
				return err
			}
		}
	}
	if c.Op != stream.OpUpdate && c.Op != stream.OpDelete {
		return nil
	}
	for _, col := range r.oldCols {
		if err := checkOld(c, col); err != nil {
			return err
		}
	}
	if r.oldRow && c.Old != nil {
		return checkRow(c, c.Old, "old ")
	}
	return nil
}

// checkNew checks new.col of c (which has a new row).
func checkNew(c *stream.Change, col string) error {
	v, ok := c.New[col]
	if !ok {
		return missingColumn(c, col)
	}
	return checkValue(c, "", col, v)
}

// identityError is a value the table's replica identity kept out of a
// change: the change lacks it for good, so a replay cannot bring it back
// (stream.Failure.IdentityGap; Rebuild says so).
type identityError struct{ msg string }

func (e *identityError) Error() string { return e.msg }

// identityGap is an identityError: what is missing (format, args), then
// the fix. A partitioned table's changes arrive under the root
// (publish_via_partition_root), but both its identity and each
// partition's count.
func identityGap(table, format string, args ...any) error {
	return &identityError{fmt.Sprintf(format, args...) + "; set REPLICA IDENTITY FULL on " + table +
		" (and on each of its partitions, if it is partitioned)"}
}

// checkOld checks old.col of an update or delete. No old row at all, or a
// key-only one without col, is the replica identity's doing; an old row
// that lacks a column the table does not carry is a schema change.
func checkOld(c *stream.Change, col string) error {
	if c.Old == nil {
		return identityGap(c.Table, "the rule reads the old %s but the server sent no old value", col)
	}
	v, ok := c.Old[col]
	// A key-only old row with no column list (a change stored before the
	// list was) cannot tell a schema change from the replica identity.
	knowable := c.Columns != nil || !c.OldIsKey
	switch {
	case !ok && knowable && !carries(c, col):
		return missingColumn(c, col)
	case !ok:
		return identityGap(c.Table, "the rule reads the old %s but the old row holds only the replica identity key (%s)",
			col, strings.Join(c.Key, ", "))
	}
	return checkValue(c, "old ", col, v)
}

// checkRow checks every value of a row an expression reads as a whole,
// reporting the first unknown column by name so the reason is stable.
func checkRow(c *stream.Change, row stream.Row, which string) error {
	bad := ""
	for col, v := range row {
		if checkValue(c, which, col, v) != nil && (bad == "" || col < bad) {
			bad = col
		}
	}
	if bad == "" {
		return nil
	}
	return checkValue(c, which, bad, row[bad])
}

// checkValue checks one value; which is "" for the new row, "old " for the
// old one.
func checkValue(c *stream.Change, which, col string, v any) error {
	if stream.IsUnchanged(v) {
		return identityGap(c.Table, "%scolumn %s is an unchanged TOAST value", which, col)
	}
	if u, ok := stream.AsUnrepresentable(v); ok {
		return fmt.Errorf("%scolumn %s of %s holds a value the syncer cannot represent (%s); only rules that read it fail: "+
			"stop reading it here, or read what you need through a lookup", which, col, c.Table, u.Reason)
	}
	return nil
}

// carries reports whether c's table sends col at all: from the Relation
// message's column list, or, for a backfill's rows, from the row itself.
func carries(c *stream.Change, col string) bool {
	if c.Columns != nil {
		return slices.Contains(c.Columns, col)
	}
	row := c.New
	if row == nil {
		row = c.Old
	}
	_, ok := row[col]
	return ok
}

// missingColumn is the reason for reading a column the change does not
// carry. Postgres sends a new Relation message after ALTER TABLE, so the
// column was renamed or dropped since the rules were checked, or it is a
// generated column, which pgoutput (Postgres 12-17) never sends.
func missingColumn(c *stream.Change, col string) error {
	return fmt.Errorf("column %s is not in this change to %s (it carries %s): the table's schema changed "+
		"(%s was renamed or dropped; fix the rule and replay), or %s is a generated column, which logical replication "+
		"does not send (compute it in the expression or read it through a lookup)",
		col, c.Table, carried(c), col, col)
}

// maxCarried bounds the column list in a reason: enough to spot a rename,
// short enough for a log line and a dead letter per row.
const maxCarried = 20

// carried lists the columns c carries, for a reason.
func carried(c *stream.Change) string {
	cols := c.Columns
	if cols == nil {
		row := c.New
		if row == nil {
			row = c.Old
		}
		for k := range row {
			cols = append(cols, k)
		}
		slices.Sort(cols)
	}
	if len(cols) > maxCarried {
		return strings.Join(cols[:maxCarried], ", ") + fmt.Sprintf(", ... (%d more)", len(cols)-maxCarried)
	}
	return strings.Join(cols, ", ")
}
