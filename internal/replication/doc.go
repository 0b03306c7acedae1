// Package replication turns a Postgres logical replication slot (pgoutput)
// into an ordered stream of stream.Change values and owns the checkpoint.
//
// It owns: preflight checks, creating the publication and the slot, the
// replication connection (START_REPLICATION, keepalives, standby status),
// decoding pgoutput messages and tuples into typed Go values, the relation
// cache, reconnecting, and the checkpoint table. It does not own rules,
// delivery, the schema migrations or the CLI; it imports only package stream.
//
// # Emitted changes
//
// Inside a transaction every Insert, Update, Delete, Truncate and
// transactional logical Message gets Pos{CommitLSN: Begin.FinalLSN, Index: i}
// with i counting from 0; EndLSN is 0 on these because pgoutput only says
// where the transaction ends in its Commit message. Commit yields an OpCommit
// marker Pos{CommitLSN, EndLSN: Commit.TransactionEndLSN, Index: n} where n
// is the number of changes. A non-zero EndLSN therefore marks exactly the
// commit markers. Transactions with no changes (writes to unpublished
// tables, our heartbeats) emit nothing. Non-transactional messages and our
// own heartbeat messages (prefix "cdc_heartbeat") are dropped. Each change
// is sent as soon as it is decoded; out is a bounded channel, so a slow
// consumer pauses reading and a 1M-row transaction never sits in memory.
//
// # Acknowledgement and checkpoint invariants
//
//  1. The ack function (Reader.AckFunc) is called in stream order with p,
//     an event position (Index i, Sub k: changes before i and the first k
//     events of change i are done) or a commit marker (the whole transaction
//     is done). The reader is the one place that holds the last acknowledged
//     position (ackState).
//  2. The ack function saves p to <schema>.checkpoint before it returns,
//     retrying while the save fails until it works or delivery stops; the
//     delivery side sends its next request only after its ack returned, so a
//     crash re-sends at most the requests in flight. Reader.Close is the one
//     final save, for what a retry cut short by the end of delivery left.
//     Saves never move the stored position backwards. The replication
//     goroutine only ever reports, as confirmed flush LSN, the EndLSN of the
//     last commit marker that was acked AND saved: persist, then report;
//     never the reverse.
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
// # Fencing
//
// The checkpoint row carries the epoch of the leader that owns it
// (migrations/003). Reader.Run claims the checkpoint before it loads it:
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
