// Package bento delivers events to Bento: the event wire format, batching
// (group commit), the HTTP client for both transports (webhook and Events
// API), request signing, pacing, retry with backoff, and the dead-letter
// store with its replay and discard operations.
//
// It does not decide what an event contains (internal/rules does), and it
// does not persist checkpoints (replication does, through the AckFunc it
// hands in). It never imports rules or replication.
//
// Invariants the Sender keeps:
//
//   - Every enqueued Item gets a sequence number; ack is called strictly in
//     that order, only with the position of an item that is done and whose
//     predecessors are all done. Done means: delivered (Bento answered 2xx
//     for a request that carried the event), or durably written to the
//     dead-letter table, or a Mark. Acks are coalesced: only the newest
//     contiguous done position is reported.
//   - Events for one email are delivered in enqueue order: an email always
//     maps to the same partition, a partition has at most one request in
//     flight, and a batch is a prefix of the partition's queue (cut where the
//     webhook source changes). Bisection of a rejected batch sends the left
//     half before the right.
//   - A request abandoned because the context ended is never acknowledged;
//     its events are re-sent after a restart.
//   - Retryable failures (408, 429, 5xx, timeouts, connection errors) are
//     retried forever; 401/403/404 halt delivery (the sender turns unhealthy
//     and probes slowly) without dropping or acknowledging anything.
package bento
