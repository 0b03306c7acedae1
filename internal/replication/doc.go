// Package replication turns a Postgres logical replication slot (pgoutput)
// into an ordered stream of stream.Change values and owns the checkpoint.
//
// It owns: preflight checks, creating the publication and the slot, the
// replication connection (START_REPLICATION, keepalives, standby status),
// decoding pgoutput messages and tuples into typed Go values, the relation
// cache, reconnecting, the checkpoint (every save of it, the table, and what
// the server is told), and the catalog questions about the source database
// (catalog.go: slot state, publication membership, live columns, replica
// identity, the syncer's schema, domains' base types: domains.go, the
// partition move key: partmove.go) with the quoting of table names
// (tables.go), and following the watched tables by relation OID when
// pgoutput names them otherwise: partitions, renamed tables (identity.go).
// It does not own rules, delivery, the schema migrations,
// the operator commands or the CLI; it imports only package stream and
// the retry and promreg helpers.
//
// # Emitted changes
//
// Inside a transaction every Insert, Update, Delete, Truncate and
// transactional logical Message gets Pos{CommitLSN: Begin.FinalLSN, Index: i}
// with i counting from 0; EndLSN is 0 on these because pgoutput only says
// where the transaction ends in its Commit message. Commit yields an OpCommit
// marker Pos{CommitLSN, EndLSN: Commit.TransactionEndLSN, Index: n} where n
// is the number of those messages. A non-zero EndLSN therefore marks exactly
// the commit markers. A partition move (a DELETE then an INSERT of the same
// key on a partitioned table, partmove.go) is emitted as one update at the
// INSERT's index; the DELETE's index stays unused, so the index of every
// other change does not depend on whether a pair merged. Transactions with
// no changes (writes to unpublished tables, our heartbeats) emit nothing.
// Non-transactional messages and our own heartbeat messages (prefix
// "cdc_heartbeat") are dropped. Each change is sent as soon as it is
// decoded (a DELETE on a partitioned table once the next message shows
// whether it is half of a move, at the latest at Commit); out is a bounded
// channel, so a slow consumer pauses reading and a 1M-row transaction never
// sits in memory.
//
// # Acknowledgement and checkpoint invariants
//
//  1. The ack function (Reader.AckFunc) is called in stream order with p,
//     an event position (Index i, Sub k: changes before i and the first k
//     events of change i are done) or a commit marker (the whole transaction
//     is done). The reader is the one place that holds the last acknowledged
//     position (ackState).
//  2. The ack function saves p to <schema>.checkpoint before it returns,
//     retrying while the save fails until it works or delivery stops (saves
//     failing for SaveFailingAfter make the reader unhealthy with the
//     reason until one works: savehealth.go); the delivery side sends its next request only after its ack returned, so a
//     crash re-sends at most the requests in flight. Reader.Close is the one
//     final save, for what a retry cut short by the end of delivery left.
//     Saves never move the stored position backwards. The replication
//     goroutine only ever reports, as confirmed flush LSN, the EndLSN of the
//     last commit marker that was acked AND saved: persist, then report;
//     never the reverse. Reader.AckWithFunc also runs work of the delivery
//     side (the delivery ledger's rows) in the transaction that saves the
//     position, and records the position as acknowledged only once that
//     transaction committed, so no save ever stores it without them.
//  3. Idle: when no transaction is open and everything emitted has been
//     acked and saved (or nothing was emitted), the flush LSN follows the
//     WAL end the server says it has sent (keepalives) or the end of an empty
//     transaction: everything before it has been received and handled. The
//     heartbeat (pg_logical_emit_message every Config.Heartbeat) makes the
//     slot decode something even when the published tables are quiet.
//  4. The reported flush never goes below the slot's confirmed_flush_lsn.
//  5. Status updates go out every Config.StatusInterval and at once when the
//     server asks, also while out is full: the replication goroutine waits
//     on out in a select with a timer, never blocking on it alone.
//  6. A clean stop reports the final checkpoint: when Run ends because its
//     context ended, the still-streaming connection is parked, and Close,
//     after the final save, sends one last status update with the saved
//     EndLSN and waits (at most finalConfirmWait) until the slot's
//     confirmed_flush_lsn shows it (finalstatus.go). The connection has one
//     owner at a time: the replication goroutine, then Close.
//  7. A Postgres shutdown waits for walsenders until their client confirms
//     everything sent. When the server asks again and again for a reply we
//     cannot give (work in flight), the reader disconnects so the shutdown
//     can finish, and resumes after it like after any lost connection.
//
// # Slot identity (issue 12)
//
// The checkpoint counts positions in one slot. A slot that is invalidated
// (wal_status lost), dropped, missing after a failover, or re-created under
// the same name cannot continue it: the changes in between were never read.
// The checkpoint row records the slot's identity (slotidentity.go):
//
//  7. slot_consistent_point is the consistent point of the slot the syncer
//     created (setup, run, a resync), recorded right after creating it.
//  8. slot_max_flush is at least every flush LSN ever reported to the slot:
//     a save raises it to the saved EndLSN in the same statement, and the
//     replication goroutine records any higher flush (the idle WAL end)
//     before it reports it (Reader.reportable; if recording fails it reports
//     the recorded one). Our slot's confirmed_flush_lsn therefore never
//     exceeds slot_max_flush, while a slot created later starts at its own
//     consistent point, beyond every LSN reported before it existed.
//
// CheckSlot, before streaming, calls the slot lost when a checkpoint exists
// and the slot is missing, invalidated, or confirms more than
// slot_max_flush (re-created, or advanced by another client). A checkpoint
// saved before these columns existed adopts the slot as it is (trust on
// first use). What happens then is source.on_slot_lost (package pipeline):
// stop, or resync (a new slot and a backfill from its snapshot).
//
// # Fencing
//
// The checkpoint row carries the epoch of the leader that owns it
// (migrations/006_checkpoint_epoch.sql). Reader.Run claims the checkpoint before it loads it:
// CheckpointStore.Claim increments the epoch, and every later Save of this
// Reader matches the row only while it still carries that epoch. So a save
// by an instance that another one replaced either happened before the new
// leader's Load (and is seen by it) or matches no row (ErrFenced). The ack
// function that meets ErrFenced closes Reader.Fenced and never returns, so
// the replaced instance's delivery side sends no further request: a
// takeover re-sends at most the requests the old leader had in flight (one
// per partition), whatever the lock watch has noticed yet. Close's final
// save is fenced the same way, and a fenced Close reports nothing to the
// server.
//
// # Resume
//
// START_REPLICATION starts at the slot's confirmed_flush_lsn, which by (2)
// is at or before the end of the last saved transaction, so the server may
// resend transactions we already handled. With P the loaded checkpoint:
// transactions with CommitLSN < P.CommitLSN are skipped; if P is a commit
// marker (EndLSN != 0) its transaction is skipped too; otherwise changes
// with Index < P.Index are skipped, change P.Index is emitted with
// Pos.Sub = P.Sub (the delivery side skips that many of its events) and
// later ones normally. The commit marker of a partly acknowledged
// transaction is always emitted.
//
// A Reader runs once (one Run per Reader); a new process makes a new one.
// After a lost connection within one process, the reader resumes after the
// last change it emitted rather than the last ack: the delivery side still
// holds everything emitted, so nothing is emitted twice in one process.
// Across processes, the only repeats are the events after the saved
// checkpoint, which the positions let the delivery side recognise.
package replication
