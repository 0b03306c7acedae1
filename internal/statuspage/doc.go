// Package statuspage serves the read-only HTML page `cdc run` shows at / on
// http.addr for the person on call: streaming or not and why, slot lag and
// retained WAL, the checkpoint, requests and events per minute against the
// pacing budget, events per rule, the newest dead letters with reasons,
// backfill progress and the last reconcile. It owns collecting those
// (read-only queries on the syncer's pool, the process's metrics) and
// rendering them with html/template and embedded assets: no JavaScript, a
// meta refresh. Emails are masked unless log.level is debug. It also
// exports what only it reads as metrics: cdc_ready and
// cdc_delivery_halted. It does not own the syncer, the other metrics (the
// slot's are the reader's) or the tables it reads.
package statuspage
