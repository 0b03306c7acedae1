// Package ops holds the operator commands that run beside the syncer, not
// inside it: check (every finding with its fix and SQL), setup (what check
// found missing and setup may create), status (slot, checkpoint, dead
// letters, backfills), the dead-letter commands (open, replay by
// re-evaluation) and the wiring of a hand-run backfill or preview (which
// tables, the pool and migrations, the pacing).
//
// It owns what those commands decide and return. It does not own the
// catalog questions or the checkpoint (package replication answers them,
// so check and the running syncer agree), the rules, delivery, the running
// syncer (package pipeline) or printing and exit codes (cmd/cdc).
package ops
