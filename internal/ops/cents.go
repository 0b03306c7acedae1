package ops

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgbento/cdc/internal/replication"
)

// checkCents checks every cents() over a column against the column's live
// type: over real or double precision it fails on every row (a float is
// not exact), over an integer column it multiplies by 100, which is wrong
// for a column that already holds cents (issue 15.8).
func (t *target) checkCents(ctx context.Context) ([]Finding, error) {
	tables := t.cfg.Compiled.Tables()
	types, err := replication.ColumnTypes(ctx, t.conn, tables)
	if err != nil {
		return nil, err
	}
	var fs []Finding
	for _, table := range tables {
		for _, ref := range t.cfg.Compiled.CentsColumns(table) {
			if f := centsFinding(types[table][ref.Column], ref.Column); f != nil {
				f.What = fmt.Sprintf("%s:%d: rule %q: %s: cents(%s) over %s column %s.%s: %s",
					t.cfg.File, t.cfg.Line(ref.Path), ref.Rule, ref.Path, ref.Column, types[table][ref.Column], table, ref.Column, f.What)
				fs = append(fs, *f)
			}
		}
	}
	return fs, nil
}

// centsFinding judges cents() over a column of type typ; nil when fine
// (numeric, text, or a column the schema check reports as missing).
func centsFinding(typ, column string) *Finding {
	switch typ {
	case "real", "double precision":
		return &Finding{Severity: SevError, What: "every row fails: a float is not an exact amount",
			Fix: "make the column numeric, or read it as numeric in a lookup (e.g. select total::numeric(12,2) ...)"}
	case "smallint", "integer", "bigint":
		f := &Finding{Severity: SevWarn, What: "cents() multiplies by 100",
			Fix: "if the column already holds minor units (cents), use it as it is: amount: \"= new." + column + "\""}
		if strings.HasSuffix(column, "_cents") {
			f.What += "; the column's name says it already holds cents, so the amount would be 100 times too large"
		}
		return f
	}
	return nil
}
