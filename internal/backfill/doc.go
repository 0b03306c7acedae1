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
//  4. Values are decoded from the text format with replication.TextDecoder
//     under replication.TextSessionSettings and the column types the
//     replication stream reports (pg_attribute), so a rule sees the same
//     values for a row whether it came from the WAL or from here.
//  5. A change's CommitTime is the time the chunk was read: a rule's date
//     expression (e.g. coalesce(new.paid_at, committed)) gives the
//     historical date; a rule without one is dated when the backfill runs.
//
// Positions are synthetic: change i of chunk c has Pos{CommitLSN: c, Index:
// i}; they order the sender's acknowledgements and name dead letters.
package backfill
