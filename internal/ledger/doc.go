// Package ledger owns the delivery ledger: <schema>.ledger, one row per
// event Bento accepted (time, rule, type, email, purchase key and value,
// position, request id). It owns what is recorded (Mode), writing it in one
// statement per acknowledgement (inside the checkpoint's transaction for the
// stream), pruning after the retention, and reading it back for `cdc log`
// and reconcile. It does not own delivery (internal/bento builds the
// records), the checkpoint (internal/replication runs the transaction) or
// the CLI.
//
// # Invariants
//
//  1. A stream event is in the ledger exactly when the checkpoint covers it:
//     its rows are inserted in the transaction that saves the position of
//     the acknowledgement that covers it (replication.CheckpointStore.SaveWith).
//     A crash re-sends at most the requests in flight, and those were not
//     recorded, so they are recorded once when delivered again.
//  2. One statement per acknowledgement, whatever its number of events:
//     a multi-row INSERT ... SELECT FROM unnest(arrays).
//  3. Rows are never updated; they are deleted only by the pruner, once
//     accepted_at is older than the retention.
package ledger
