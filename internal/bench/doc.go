// Package bench is the end-to-end benchmark behind `cdc bench` (issue 5):
// it measures the real syncer, run as a subprocess, against pg_recvlogical
// draining the same backlog, and the commit-to-delivery latency under a
// steady load.
//
// It owns the benchmark's schema, rules and config, the backlog and paced
// writers, the counting stand-in for Bento (bentofake behind an
// http.Server), timing the two consumers, sampling the syncer's peak RSS,
// and printing the results next to their targets. It does not own the
// syncer (it runs whatever command it is given) nor any Postgres server
// setting beyond the throwaway server it may start with pglocal.
//
// Modes, each on fresh tables, slots and publication:
//
//   - backlog: N paid orders in transactions of TxSize rows, written while
//     nothing reads two slots created at the same point; pg_recvlogical then
//     the syncer drain it.
//   - large transaction: the same with one transaction of N rows; the point
//     is the syncer's peak RSS.
//   - steady: the syncer runs live while a paced writer commits single-order
//     transactions at each rate; latency is the stand-in's receipt time minus
//     the time the writer's COMMIT returned, matched by details.unique.key.
package bench
