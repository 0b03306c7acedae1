package replication

import (
	"context"
	"fmt"
	"time"
)

// tableIdentity follows the watched tables by their identity, the relation
// OID, when pgoutput names them otherwise (issue 10.3 and 10.4):
//
//   - a partition of a watched partitioned table, when the publication lacks
//     publish_via_partition_root (created by hand, or before the option was
//     set: pgoutput reads the publication as it was when the change was
//     written), arrives under the partition's own name;
//   - a watched table renamed while the syncer runs arrives under its new
//     name (ALTER TABLE orders RENAME TO orders_v2);
//   - after the rules were changed to the new name, the WAL written before
//     the rename still names the old one.
//
// Each is matched to the table the rules name, with a warning saying what
// to fix, instead of being ignored as a table no rule knows. Only the
// replication goroutine uses it.
type tableIdentity struct {
	names   []string          // the watched tables, as the config names them
	watched map[string]bool   // the same, as a set
	started map[uint32]string // their relation OIDs when the reader started
}

// catalogError is a failed catalog read while decoding: the database may
// be back on the next attempt, so unlike a decodeError it is not permanent.
type catalogError struct{ err error }

func (e *catalogError) Error() string { return e.err.Error() }
func (e *catalogError) Unwrap() error { return e.err }

// resolveIdentity records the watched tables' relation OIDs the first time
// a session starts; later sessions keep them, so a table renamed since is
// still recognised.
func (r *Reader) resolveIdentity(ctx context.Context) error {
	if r.identity != nil {
		return nil
	}
	oids, err := TableOIDs(ctx, r.store.pool, r.cfg.Tables)
	if err != nil {
		return err
	}
	id := &tableIdentity{names: r.cfg.Tables, watched: make(map[string]bool), started: make(map[uint32]string)}
	for _, t := range r.cfg.Tables {
		id.watched[t] = true
	}
	for t, oid := range oids {
		id.started[oid] = t
	}
	r.identity = id
	return nil
}

// identified is what the reader makes of a Relation message: the table
// its changes count as, what to do at the first change under it (the
// identity warning) and at every change (counting a table no rule reads).
// A nil func does nothing.
type identified struct {
	table string
	first func()
	each  func()
}

// identify returns the watched table a Relation message (relID, named
// table) stands for: table itself when it is watched or unrelated to
// every watched table. Its first func logs why, once a change arrives
// under the relation; for a table no rule reads it warns and counts
// instead (unruled.go).
func (r *Reader) identify(ctx context.Context, relID uint32, table string) (identified, error) {
	id := r.identity
	if id == nil || len(id.names) == 0 || id.watched[table] {
		return identified{table: table}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lineage, err := relationLineage(ctx, r.store.pool, relID)
	if err != nil {
		return identified{}, &catalogError{fmt.Errorf("identify relation %s: %w", table, err)}
	}
	current, err := TableOIDs(ctx, r.store.pool, id.names)
	if err != nil {
		return identified{}, &catalogError{fmt.Errorf("identify relation %s: %w", table, err)}
	}
	byOID := make(map[uint32]string, len(current))
	for t, oid := range current {
		byOID[oid] = t
	}
	for i, oid := range lineage {
		if name, ok := byOID[oid]; ok {
			return identified{table: name, first: func() { r.logIdentity(i > 0, false, name, table) }}, nil
		}
		// Watched when the reader started, under a name that now names
		// nothing: renamed since (a name reused by another table wins).
		if name, ok := id.started[oid]; ok && current[name] == 0 {
			return identified{table: name, first: func() { r.logIdentity(i > 0, true, name, table) }}, nil
		}
	}
	return r.unruled(table), nil
}

// logIdentity says why the relation named arrived is matched to watched:
// it is a partition of watched, or watched was renamed to arrived while
// the syncer runs, or (neither) arrived is watched's name before a rename
// the rules already follow.
func (r *Reader) logIdentity(partition, renamed bool, watched, arrived string) {
	switch {
	case partition:
		r.log.Warn("a partition's changes arrive under its own name; matching them to the partitioned table the rules name",
			"table", watched, "partition", arrived,
			"fix", fmt.Sprintf("ALTER PUBLICATION %s SET (publish_via_partition_root = true);", r.cfg.Publication))
	case renamed:
		r.log.Warn("a watched table's changes arrive under another name (renamed); matching them by the table's identity",
			"table", watched, "arrives_as", arrived,
			"fix", fmt.Sprintf("name the table %s in the rules and restart: a restart refuses a table that does not exist", arrived))
	default:
		r.log.Info("changes written before a rename arrive under the table's former name; matching them by identity",
			"table", watched, "arrives_as", arrived)
	}
}
