// Package ledger owns the delivery ledger: what Bento accepted (time, rule,
// type, email, purchase key and value, position, request id), stored as
// <schema>.ledger_batches, one row per written batch (the events of one
// request as compact JSON), and read through the view <schema>.ledger, one row per event. It owns what is
// recorded (Mode), encoding and writing it in one statement per
// acknowledgement (inside the checkpoint's transaction for the stream),
// pruning after the retention, and reading it back for `cdc log` and
// reconcile. It does not own delivery (internal/bento builds the records),
// the checkpoint (internal/replication runs the transaction) or the CLI.
//
// # Invariants
//
//  1. A stream event is in the ledger exactly when the checkpoint covers it:
//     its batch is inserted in the transaction that saves the position of
//     the acknowledgement that covers it (replication.CheckpointStore.SaveWith).
//     A crash re-sends at most the requests in flight, and those were not
//     recorded, so they are recorded once when delivered again.
//  2. One statement per acknowledgement, whatever its number of events, and
//     one heap row per request: the per-event rows and indexes of the first
//     ledger cost half the throughput (issue 13; docs/decisions.md).
//  3. A batch is never refused for its content: every string goes through
//     pgtext.Safe's rules (encode.go) and is escaped as to_json escapes it,
//     so a lookup finds a value in the stored text by its to_json form.
//  4. Batches are never updated; they are deleted only by the pruner, once
//     accepted_at is older than the retention.
package ledger
