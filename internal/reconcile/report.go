package reconcile

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// Kinds of drift.
const (
	KindMissing   = "missing"   // in the database, not in the ledger
	KindDiffering = "differing" // both, amounts differ
	KindCurrency  = "currency"  // both, currencies differ (reported only)
	KindUnknown   = "unknown"   // in the ledger, no longer in the database (reported only)
)

// Item is one purchase key's drift.
type Item struct {
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	Rule     string `json:"rule"`
	Table    string `json:"table"`
	RowKey   string `json:"row_key"`
	DBCents  int64  `json:"db_cents"`   // what the database says (0 for unknown)
	Sent     int64  `json:"sent_cents"` // what Bento has per the ledger (0 for missing)
	Currency string `json:"currency"`
	Repaired bool   `json:"repaired"`
}

// Customer is one email's drift, with its totals in cents per currency.
type Customer struct {
	Email   string `json:"email"`
	DBCents Money  `json:"db_cents"`   // {"USD": 12000, "EUR": 2433}
	Sent    Money  `json:"sent_cents"` // the same per the ledger
	Drift   Money  `json:"drift_cents"`
	Items   []Item `json:"items"`
}

// Report is what one run found and did.
type Report struct {
	Started   time.Time  `json:"started"`
	Finished  time.Time  `json:"finished"`
	DryRun    bool       `json:"dry_run"`
	Since     time.Time  `json:"since"`
	Tables    []string   `json:"tables"`
	Purchases int        `json:"purchases"`     // purchases the database yields in scope
	Failures  int        `json:"rule_failures"` // rows the rules fail on (see dead letters)
	DBCents   Money      `json:"db_cents"`      // their total per currency
	Sent      Money      `json:"sent_cents"`    // the ledger's total for the same scope
	Customers []Customer `json:"customers"`     // only customers with drift, by email
	Counts    Counts     `json:"counts"`
	Repaired  int        `json:"repaired"` // events sent and accepted
}

// Counts are the drift items by kind, and the drift: per currency, the sum
// over customers of |database - ledger| in that currency (Drift), and the
// sum of those (DriftCents), a magnitude for the stored run summary and the
// metric, zero exactly when no amount drifts.
type Counts struct {
	Missing    int   `json:"missing"`
	Differing  int   `json:"differing"`
	Currency   int   `json:"currency"`
	Unknown    int   `json:"unknown"`
	Drift      Money `json:"drift"`
	DriftCents int64 `json:"drift_cents"`
}

// Drift reports whether anything differs.
func (r *Report) Drift() bool { return len(r.Customers) > 0 }

// finish groups items per customer (sorted) and totals them.
func (r *Report) finish(items map[string][]Item, totals map[string]*totals) {
	emails := make([]string, 0, len(items))
	for e := range items {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	r.Counts.Drift = Money{}
	for _, e := range emails {
		t := totals[e]
		c := Customer{Email: e, DBCents: t.db, Sent: t.sent, Drift: t.db.minus(t.sent), Items: items[e]}
		r.Customers = append(r.Customers, c)
		for cur, v := range c.Drift {
			r.Counts.Drift.add(cur, absInt(v))
		}
		for _, it := range c.Items {
			switch it.Kind {
			case KindMissing:
				r.Counts.Missing++
			case KindDiffering:
				r.Counts.Differing++
			case KindCurrency:
				r.Counts.Currency++
			case KindUnknown:
				r.Counts.Unknown++
			}
		}
	}
	r.Counts.DriftCents = r.Counts.Drift.abs()
}

// Print writes the report for a person: each customer with drift, then the
// totals.
func (r *Report) Print(w io.Writer) {
	for _, c := range r.Customers {
		fmt.Fprintf(w, "%s: database %s; Bento (ledger) %s; drift %s (cents)\n", c.Email, c.DBCents, c.Sent, c.Drift.Signed())
		for _, it := range c.Items {
			fmt.Fprintf(w, "  %-9s key %s (%s, %s %s): %s%s\n", it.Kind, it.Key, it.Rule, it.Table, it.RowKey, it.describe(), repairedNote(it))
		}
	}
	fmt.Fprintf(w, "checked %d purchases in %v (since %s): database %s; ledger %s (cents)\n",
		r.Purchases, r.Tables, sinceText(r.Since), r.DBCents, r.Sent)
	fmt.Fprintf(w, "drift: %d customers, %d missing, %d differing, %d currency changes, %d unknown keys; %s (cents)\n",
		len(r.Customers), r.Counts.Missing, r.Counts.Differing, r.Counts.Currency, r.Counts.Unknown, r.Counts.Drift)
	if r.Failures > 0 {
		fmt.Fprintf(w, "%d rows the rules fail on were not compared (they are dead letters: cdc dlq list)\n", r.Failures)
	}
	switch {
	case r.DryRun:
		fmt.Fprintln(w, "dry run: nothing sent")
	default:
		fmt.Fprintf(w, "repaired: %d events sent and accepted\n", r.Repaired)
	}
}

func (it Item) describe() string {
	switch it.Kind {
	case KindMissing:
		return fmt.Sprintf("%d %s never sent", it.DBCents, it.Currency)
	case KindDiffering:
		return fmt.Sprintf("database %d, sent %d (%+d) %s", it.DBCents, it.Sent, it.DBCents-it.Sent, it.Currency)
	case KindCurrency:
		return fmt.Sprintf("currency is now %s; not repaired (send a correction by hand)", it.Currency)
	default:
		return fmt.Sprintf("sent %d %s, no longer in the database; not repaired", it.Sent, it.Currency)
	}
}

func repairedNote(it Item) string {
	if it.Repaired {
		return " [repaired]"
	}
	return ""
}

func sinceText(t time.Time) string {
	if t.IsZero() {
		return "the beginning"
	}
	return t.UTC().Format(time.RFC3339)
}

// Unresolved counts the drift items left after the run: everything on a
// dry run, otherwise what was not (or cannot be) repaired.
func (r *Report) Unresolved() int {
	n := 0
	for _, c := range r.Customers {
		for _, it := range c.Items {
			if !it.Repaired {
				n++
			}
		}
	}
	return n
}
