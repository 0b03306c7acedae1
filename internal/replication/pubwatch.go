package replication

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// pubWatch follows whether the publication still carries the rules'
// tables while the reader runs. An admin's ALTER PUBLICATION ... DROP TABLE
// takes effect at once: pgoutput stops sending the table's changes, the
// stream stays healthy and the checkpoint moves past them, so without this
// watch the loss is silent until the next start refuses. Only the slot
// watch's goroutine (slotWatchLoop) touches it.
type pubWatch struct {
	missing []string  // the tables last found missing, in config order; nil: none
	since   time.Time // when the first of them was found missing
}

// checkPublication reads which configured tables the publication lacks (the
// query cdc check uses) and keeps r.pubProblem up to date: set with the fix
// while one is missing, one ERROR when the set of missing tables grows,
// one INFO for each table back. A table that does not exist under its
// configured name (renamed while running, matched by identity) is not
// reported here. A failed read leaves everything as it was: the slot
// gauges report an unreachable database.
func (r *Reader) checkPublication(ctx context.Context, w *pubWatch) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StatusInterval)
	defer cancel()
	missing, err := r.unpublished(ctx)
	if err != nil {
		return
	}
	if back := without(w.missing, missing); len(back) > 0 {
		r.log.Info("table back in the publication; its changes are streamed again",
			"tables", back, "publication", r.cfg.Publication,
			"backfill", "cdc backfill --table T sends the rows changed while it was missing")
	}
	if added := without(missing, w.missing); len(added) > 0 {
		if len(w.missing) == 0 {
			w.since = r.now()
		}
		r.log.Error("a rule's table is not in the publication: its changes are not streamed",
			"tables", added, "publication", r.cfg.Publication, "fix", publicationFix(r.cfg.Publication, missing))
	}
	w.missing = missing
	if len(missing) == 0 {
		r.pubProblem.Store("")
		return
	}
	r.pubProblem.Store(fmt.Sprintf("%s not in publication %s since %s: %s", tableList(missing), r.cfg.Publication,
		w.since.UTC().Format(time.RFC3339), publicationFix(r.cfg.Publication, missing)))
}

// unpublished is NotPublished over the configured tables that exist.
func (r *Reader) unpublished(ctx context.Context) ([]string, error) {
	missing, err := NotPublished(ctx, r.store.pool, r.cfg.Publication, r.cfg.Tables)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	exist, err := TableOIDs(ctx, r.store.pool, missing)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(missing, func(t string) bool { return exist[t] == 0 }), nil
}

// publicationFix is what the operator does about tables the publication
// lacks while rules read them.
func publicationFix(publication string, tables []string) string {
	backfills := make([]string, len(tables))
	for i, t := range tables {
		backfills[i] = "cdc backfill --table " + t
	}
	return fmt.Sprintf("an admin runs %s then %s sends the rows changed meanwhile "+
		"(not meant to be synced: remove its rules and restart)", AddTablesSQL(publication, tables), strings.Join(backfills, " and "))
}

// AddTablesSQL is the statement an admin runs to add tables to the
// publication, as cdc check prints it.
func AddTablesSQL(publication string, tables []string) string {
	return fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE %s;", quoteIdent(publication), ReadableTables(tables))
}

func tableList(tables []string) string {
	if len(tables) == 1 {
		return "table " + tables[0] + " is"
	}
	return "tables " + strings.Join(tables, ", ") + " are"
}

// without is the tables of a that are not in b, in a's order.
func without(a, b []string) []string {
	var out []string
	for _, t := range a {
		if !slices.Contains(b, t) {
			out = append(out, t)
		}
	}
	return out
}
