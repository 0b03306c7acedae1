package reconcile

import (
	"fmt"
	"maps"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// comparison walks the database's purchases against the ledger's.
type comparison struct {
	since   time.Time
	sent    map[string]*sent
	inDB    map[string]bool
	items   map[string][]Item  // by email
	totals  map[string]*totals // by email
	repairs []repair
	report  *Report
}

// totals are one customer's sums per currency.
type totals struct{ db, sent Money }

// repair is one event to send: a missing purchase, or a correction that
// adjusts key.
type repair struct {
	ev      *stream.Event
	key     string // the purchase key the drift item names
	adjusts string // "" for a missing purchase
}

func newComparison(r *Report, s map[string]*sent) *comparison {
	return &comparison{since: r.Since, sent: s, inDB: map[string]bool{}, items: map[string][]Item{},
		totals: map[string]*totals{}, report: r}
}

// add takes one item the rules made of a current row.
func (c *comparison) add(it stream.Item) error {
	switch {
	case it.Kind == stream.ItemFailure:
		c.report.Failures++
	case it.Kind == stream.ItemEvent && it.Event.Type == "$purchase":
		c.purchase(it.Event)
	}
	return nil
}

func (c *comparison) purchase(ev *stream.Event) {
	v := stream.ValueOf(ev.Details)
	date := ev.Date
	if date.IsZero() {
		date = ev.Committed
	}
	if v.UniqueKey == "" || !v.HasAmount || c.inDB[v.UniqueKey] || date.Before(c.since) {
		return
	}
	c.inDB[v.UniqueKey] = true
	c.report.Purchases++
	c.report.DBCents.add(v.Currency, v.Amount)
	c.total(ev.Email).db.add(v.Currency, v.Amount)
	it := Item{Key: v.UniqueKey, Rule: ev.Rule, Table: ev.Table, RowKey: ev.Key, DBCents: v.Amount, Currency: v.Currency}
	s := c.sent[v.UniqueKey]
	if s == nil {
		it.Kind = KindMissing
		c.note(ev.Email, it, repair{ev: ev, key: v.UniqueKey})
		return
	}
	s.seen = true
	c.report.Sent.add(s.currency, s.amount)
	// The ledger row counts for the database's current customer of its
	// key, not for the address it was sent to: a $change_email since
	// moved it there in Bento too.
	c.total(ev.Email).sent.add(s.currency, s.amount)
	it.Sent = s.amount
	switch {
	case s.currency != v.Currency:
		it.Kind = KindCurrency
		c.note(ev.Email, it, repair{})
	case s.amount != v.Amount:
		it.Kind = KindDiffering
		c.note(ev.Email, it, repair{ev: correction(ev, v, s), key: v.UniqueKey, adjusts: v.UniqueKey})
	}
}

// unknown reports the ledger's keys the database did not yield.
func (c *comparison) unknown() {
	for key, s := range c.sent {
		if s.seen {
			continue
		}
		c.report.Sent.add(s.currency, s.amount)
		c.total(s.email).sent.add(s.currency, s.amount)
		c.note(s.email, Item{Kind: KindUnknown, Key: key, Rule: s.rule, Table: s.table, RowKey: s.rowKey,
			Sent: s.amount, Currency: s.currency}, repair{})
	}
}

func (c *comparison) note(email string, it Item, r repair) {
	c.items[email] = append(c.items[email], it)
	if r.ev != nil {
		c.repairs = append(c.repairs, r)
	}
}

// total is email's sums, created on first use.
func (c *comparison) total(email string) *totals {
	t := c.totals[email]
	if t == nil {
		t = &totals{db: Money{}, sent: Money{}}
		c.totals[email] = t
	}
	return t
}

// correction is the $purchase that brings Bento's total for v's key from
// s.amount to v.Amount: the difference, under a key of its own (see doc.go).
func correction(ev *stream.Event, v stream.Value, s *sent) *stream.Event {
	c := *ev
	c.Details = maps.Clone(ev.Details)
	c.Details["unique"] = map[string]any{"key": CorrectionKey(v.UniqueKey, s.corrections+1)}
	c.Details["value"] = map[string]any{"amount": v.Amount - s.amount, "currency": v.Currency}
	c.Details["reconcile"] = map[string]any{"adjusts": v.UniqueKey, "from": s.amount, "to": v.Amount}
	return &c
}

// CorrectionKey is the unique key of the n-th correction of key.
func CorrectionKey(key string, n int) string { return fmt.Sprintf("%s~adj%d", key, n) }
