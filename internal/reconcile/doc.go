// Package reconcile proves and repairs what Bento's lifetime value should
// be: it evaluates the $purchase rules over the current rows (their
// snapshot form, read and evaluated exactly as a backfill does, through
// internal/backfill), compares each purchase with what the delivery ledger
// says Bento accepted, reports the drift per customer in cents, and, unless
// it is a dry run, sends what is missing (paced, through a bento.Sender of
// its own) and records it in the ledger. It owns the comparison, the
// correction events, the run's report and <schema>.reconcile_runs. It does
// not own reading rows (backfill), the rules, delivery, or the ledger table.
//
// # Drift, per purchase key (details.unique.key)
//
//   - missing: the database has the purchase, the ledger does not (a lost
//     slot, a discarded dead letter, a ledger row deleted). Repair: send the
//     purchase as the rules make it now.
//   - differing: both have it, the amounts differ (a total fixed by hand,
//     with no rule firing). Bento counts a key once, so re-sending it changes
//     nothing; the repair is a correction $purchase of the difference with
//     its own key, "<key>~adj<n>" (n = corrections so far + 1: a repeated
//     run after a crash re-sends the same key, which Bento counts once),
//     recorded with adjusts = <key>. A currency change is reported, never
//     repaired.
//   - unknown: the ledger has a key the database no longer yields (the row
//     was deleted, or no longer matches the rule). Reported only.
//
// What Bento has for a key is, as Bento counts it, the amount of the first
// accepted event with that key plus every correction that adjusts it.
package reconcile
