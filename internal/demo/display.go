package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgbento/cdc/internal/bento/bentofake"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/promreg"
)

// display renders what the stand-in received next to what the database
// says, so a viewer can see the syncer keep them equal.
type display struct {
	out     io.Writer
	pool    *pgxpool.Pool
	fake    *bentofake.Bento
	reg     prometheus.Gatherer
	rules   []string // the rules' names, to read their counters
	clear   bool
	started time.Time
}

// ltvRow is one customer's purchase total at the stand-in and in the
// database (sum of every order that was ever paid), in cents.
type ltvRow struct {
	email        string
	bento, dbSum int64
}

func (d *display) show(ctx context.Context) {
	rows, err := d.ltv(ctx)
	if err != nil {
		return // the database is going away; the next refresh or final() reports
	}
	var b strings.Builder
	if d.clear {
		b.WriteString("\033[H\033[2J")
	}
	fmt.Fprintf(&b, "cdc demo — %s elapsed — Ctrl-C to stop and clean up\n\n", time.Since(d.started).Round(time.Second))
	d.writeRules(&b)
	d.writeLast(&b, 8)
	writeLTV(&b, rows, 10)
	_, _ = io.WriteString(d.out, b.String())
}

func (d *display) writeRules(w io.Writer) {
	counts := d.deliveredByRule()
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "events delivered, by rule:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%d\n", n, int64(counts[n]))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// deliveredByRule is the count of events Bento accepted per rule; rules
// with none yet are left out.
func (d *display) deliveredByRule() map[string]float64 {
	out := map[string]float64{}
	for _, rule := range d.rules {
		n, err := promreg.Value(d.reg, "cdc_events_delivered_total", "rule", rule)
		if err == nil && n > 0 {
			out[rule] = n
		}
	}
	return out
}

// ruleNames are the names of cfg's rules, in file order.
func ruleNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Rules))
	for i, r := range cfg.Rules {
		names[i] = r.Name
	}
	return names
}

func (d *display) writeLast(w io.Writer, n int) {
	got := d.fake.Received()
	fmt.Fprintf(w, "last events at the Bento stand-in (%d in all):\n", len(got))
	for _, ev := range got[max(0, len(got)-n):] {
		var extra []byte
		switch {
		case len(ev.Details) > 0:
			extra, _ = json.Marshal(ev.Details)
		case len(ev.Fields) > 0:
			extra, _ = json.Marshal(ev.Fields)
		}
		fmt.Fprintf(w, "  %-16s %-28s %s\n", ev.Type, ev.Email, truncate(string(extra), 70))
	}
	fmt.Fprintln(w)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// writeLTV shows the n biggest spenders and one line for everyone else, so
// a customer who is behind is never hidden below the fold.
func writeLTV(w io.Writer, rows []ltvRow, n int) {
	shown := rows[:min(n, len(rows))]
	fmt.Fprintf(w, "purchases per customer, top %d of %d by database total: Bento stand-in (unique keys) vs database (orders ever paid):\n", len(shown), len(rows))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  email\tstand-in\tdatabase\t")
	for _, r := range shown {
		mark := "✓"
		if r.bento != r.dbSum {
			mark = "… catching up"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.email, money(r.bento), money(r.dbSum), mark)
	}
	tw.Flush()
	if rest := rows[len(shown):]; len(rest) > 0 {
		fmt.Fprintf(w, "  the other %d customers: %s\n", len(rest), restSummary(rest))
	}
}

func restSummary(rows []ltvRow) string {
	behind := len(differing(rows))
	if behind == 0 {
		return "all agree ✓"
	}
	return fmt.Sprintf("%d agree, %d catching up", len(rows)-behind, behind)
}

func money(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// ltv joins the stand-in's purchase totals with the database's, biggest
// spenders first.
func (d *display) ltv(ctx context.Context) ([]ltvRow, error) {
	rows, err := d.pool.Query(ctx, `
		SELECT lower(trim(c.email)), (sum(o.total) * 100)::bigint
		FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE o.paid_at IS NOT NULL GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	db := map[string]int64{}
	for rows.Next() {
		var email string
		var cents int64
		if err := rows.Scan(&email, &cents); err != nil {
			return nil, err
		}
		db[email] = cents
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	bento := d.fake.PurchaseTotals()
	out := make([]ltvRow, 0, len(db))
	for email, sum := range db {
		out = append(out, ltvRow{email: email, bento: bento[email], dbSum: sum})
	}
	for email, sum := range bento { // a purchase the database never had
		if _, ok := db[email]; !ok {
			out = append(out, ltvRow{email: email, bento: sum})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].dbSum != out[j].dbSum {
			return out[i].dbSum > out[j].dbSum
		}
		return out[i].email < out[j].email
	})
	return out, nil
}

// differing is the rows whose totals disagree.
func differing(rows []ltvRow) []ltvRow {
	var out []ltvRow
	for _, r := range rows {
		if r.bento != r.dbSum {
			out = append(out, r)
		}
	}
	return out
}

// waitCaughtUp polls until every customer's totals agree, the syncer stops
// (done closes) or limit passes; final() then reports what still differs.
func (d *display) waitCaughtUp(ctx context.Context, done <-chan struct{}, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if rows, err := d.ltv(ctx); err == nil && len(differing(rows)) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-t.C:
		}
	}
}

// final prints the summary and fails, naming the customers, if the totals
// disagree.
func (d *display) final(ctx context.Context) error {
	d.clear = false
	d.show(ctx)
	rows, err := d.ltv(ctx)
	if err != nil {
		return fmt.Errorf("read totals: %w", err)
	}
	if diff := differing(rows); len(diff) > 0 {
		return mismatchError(diff, len(rows))
	}
	fmt.Fprintf(d.out, "\nall %d customers' purchase totals at the stand-in equal the database's. Cleaning up.\n", len(rows))
	return nil
}

// mismatchError names every customer whose totals differ, with both sums.
func mismatchError(diff []ltvRow, total int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "the stand-in's purchase totals differ from the database's for %d of %d customers:", len(diff), total)
	for _, r := range diff {
		fmt.Fprintf(&b, "\n  %s: stand-in %s, database %s", r.email, money(r.bento), money(r.dbSum))
	}
	return errors.New(b.String())
}
