// Package bento delivers events to Bento: the event wire format, batching
// (group commit), the HTTP client for both transports (webhook and Events
// API, with its commands endpoint for change_email), request signing,
// pacing, retry with backoff, redaction of secrets in Bento's answers, and
// the dead-letter store with its replay (paced, or handed off to a running
// syncer's sender) and discard operations.
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
//   - A change_email (stream.TypeChangeEmail) is a barrier across the
//     partitions of its two addresses: it is sent, alone, to the commands
//     endpoint after everything queued before it in both, and nothing queued
//     after it in either is sent before it is settled (barrier.go).
//   - An accepted event is never sent again because another one failed when
//     Bento names the failed ones (the Events API's "errors"); only events
//     after the last named one, when more failed than were named, and
//     batches bisected for lack of names are sent again, and counted.
//   - With Config.CoalesceFields, a run of $update_fields for one email in
//     one batch (nothing else for that email between them) is sent as one
//     event (coalesce.go). It stands for every part: accepted, all are
//     done; rejected, each is dead-lettered with its own position and wire
//     form; abandoned, all go back to the queue.
//   - A request abandoned because the context ended is never acknowledged;
//     its events are re-sent after a restart.
//   - Retryable failures (408, 429, 5xx, timeouts, connection errors) are
//     retried forever, never waiting more than max_backoff between tries
//     unless Bento's Retry-After asks for longer; redirects (never
//     followed), 401/403/404 and other request errors halt delivery (the
//     sender turns unhealthy and probes slowly) without dropping or
//     acknowledging anything.
//   - Nothing Bento or a relay sends back is logged or stored before the
//     configured secrets in it are redacted (redact.go).
package bento
