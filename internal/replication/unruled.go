package replication

import (
	"fmt"

	"github.com/pgbento/cdc/internal/stream"
)

// unruled is what the reader does with the changes of a table the
// publication carries and no rule reads: it passes them on (the rules make
// nothing of them, the checkpoint moves past them), counts each in
// cdc_replication_changes_skipped_total and warns once per table per
// reader. Typical cause: an admin added the table to the publication while
// a syncer without rules for it ran (README, "Adding a table"); what it
// skipped that way only a backfill sends. The syncer's own tables (a
// publication FOR ALL TABLES carries them) are not reported.
func (r *Reader) unruled(table string) identified {
	if schema, _, ok := stream.SplitTable(table); ok && schema == r.cfg.Schema {
		return identified{table: table}
	}
	counter := r.metrics.skipped.WithLabelValues(table) // once per Relation message, not per change
	return identified{table: table, first: func() { r.warnUnruled(table) }, each: counter.Inc}
}

// warnUnruled logs the first skipped change of table, once per reader: a
// Relation message comes again in every session and after every ALTER
// TABLE, the warning does not.
func (r *Reader) warnUnruled(table string) {
	if r.unruledWarned[table] {
		return
	}
	if r.unruledWarned == nil {
		r.unruledWarned = make(map[string]bool)
	}
	r.unruledWarned[table] = true
	t := ReadableTable(table)
	r.log.Warn("skipping the changes of a table the publication carries and no rule reads",
		"table", table, "publication", r.cfg.Publication,
		"fix", fmt.Sprintf("to sync it: add rules for %s, restart, then run cdc backfill --table %s to send the rows "+
			"written meanwhile (these changes are not sent otherwise); not to sync it: ALTER PUBLICATION %s DROP TABLE %s;",
			table, table, quoteIdent(r.cfg.Publication), t))
}
