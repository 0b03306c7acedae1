// Package backfill sends rows that already exist in a table to Bento through
// the same rules as the replication stream. It owns reading a table in
// primary-key order (keyset pagination, in text format decoded exactly like
// the stream), turning each row into an OpSnapshot change, the progress row
// in <schema>.backfill, and the preview of what the rules would emit. It does
// not own the rules (internal/rules), delivery, retries, pacing and dead
// letters (a bento.Sender of its own), the slot or its snapshot
// (internal/replication), or the CLI.
//
// # Invariants
//
//  1. Rows are read in chunks of ChunkSize in primary-key order with
//     WHERE (k1, k2, ...) > (last key) ... ORDER BY k1, k2, ... LIMIT n,
//     never OFFSET and never the whole table: memory is bounded by two
//     chunks (the one in delivery and the one being prepared).
//  2. At most one chunk is in delivery. The next chunk is enqueued only after
//     the sender has acknowledged everything of the previous one (delivered
//     or durably dead-lettered) and that chunk's last key and row count are
//     saved. So an interrupted backfill resumes after the last fully
//     delivered chunk and re-sends at most the one chunk that was in flight.
//  3. With a snapshot (the slot's exported snapshot, taken at slot creation)
//     every chunk is read in one REPEATABLE READ transaction that imports it:
//     the backfill sees the database exactly as of the slot's first
//     position, and the stream carries every change after it. Without one,
//     each chunk is its own short read-only transaction, so a long backfill
//     never holds back vacuum.
//  4. Values are decoded from the text format with pgvalue.Decoder
//     under pgvalue.SessionSettings and the column types the
//     replication stream reports (pg_attribute), a domain resolved to its
//     base type as the stream resolves it (replication.BaseTypes), so a
//     rule sees the same values for a row whether it came from the WAL or
//     from here.
//  5. A change's CommitTime is the time the chunk was read: a rule's date
//     expression (e.g. coalesce(new.paid_at, committed)) gives the
//     historical date; a rule without one is dated when the backfill runs.
//
// Positions are synthetic: change i of chunk c has Pos{CommitLSN: c, Index:
// i}; they only order the sender's acknowledgements. Its dead letters are
// stored with no position and a reason starting "backfill: ".
//
// # Inside the stream (issue 12)
//
// Run above is the first-start backfill (from the slot's snapshot, before
// streaming starts). Every later backfill is a Request the running syncer
// executes with its Driver on its own ordered delivery path, so that it
// never delivers a row state older than a stream event already delivered
// or queued for the same row (Netflix's DBLog watermarks). Per chunk:
//
//  1. The driver registers the chunk with Windows, then emits the low
//     watermark L: pg_logical_emit_message(true, "cdc_backfill", {chunk})
//     in an autocommit transaction, so the stream delivers it at its commit,
//     in commit order, with a position of its own.
//  2. It waits until every transaction whose commit is already in the WAL
//     is visible to new snapshots (waitVisible: committed in the clog but
//     still running in a snapshot, e.g. waiting for a synchronous standby).
//     So the chunk's snapshot S contains every commit that precedes L.
//  3. It reads the chunk (keyset, invariant 1) in its own short
//     transaction: S. Every commit visible in S precedes the high watermark.
//  4. It hands the rows to Windows, then emits the high watermark H.
//  5. The syncer's evaluation goroutine sees every change in stream order.
//     Between L and H it records the keys of the chunk's table that changed
//     (insert, update with old and new key, delete; a truncate, or a row
//     change without the key columns, e.g. a delete's old row under
//     REPLICA IDENTITY USING INDEX on another index, drops the whole chunk). At H it drops those rows from the chunk: their stream
//     change is already delivered or queued, and S may be older or newer
//     than it. Each remaining row's state in S equals its state at H (no
//     change between L and H, every earlier change visible in S), so its
//     snapshot events are correct at H's place in the stream. They become
//     the events of H's change: Pos = H's position with Sub 1..n, so the
//     checkpoint, resume and ledger invariants of package replication hold
//     for them unchanged.
//  6. The driver waits until the delivery side acknowledged H's last item,
//     reads the dropped rows again by key in a window of their own (steps
//     1-5, at most maxRereads times; a row still changing is left to its
//     stream events and counted), then saves the chunk's last key and
//     counts (invariant 2 holds: at most one chunk in flight).
//
// A chunk whose H reaches a process that did not register it (the syncer
// restarted in between) is ignored; the request resumes from the saved
// progress and reads that chunk again. Requests are claimed oldest first
// from <schema>.backfill_requests by the syncer holding the leader lock; a
// request still running when the syncer stopped is claimed again first.
package backfill
