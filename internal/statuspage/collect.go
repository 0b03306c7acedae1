package statuspage

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"

	"github.com/pgbento/cdc/internal/ops"
)

// ruleView is one rule's counts in this process.
type ruleView struct {
	Name                             string
	Emitted, Delivered, DeadLettered float64
}

// deadLetterView is one dead letter, as shown (masked).
type deadLetterView struct {
	ID                            int64
	At                            time.Time
	Kind, Rule, Table, Key, Email string
	Reason                        string
	Status                        int
}

// status is what `cdc status` reads (slot, lag, checkpoint, dead letters
// waiting, backfills), on the page's pool.
func (p *Page) status(ctx context.Context) (*ops.Status, error) {
	return ops.ReadStatusWith(ctx, p.d.Pool, p.d.Config)
}

// deadLetters reads the newest limit dead letters, emails masked.
func (p *Page) deadLetters(ctx context.Context, limit int) ([]deadLetterView, error) {
	rows, err := p.d.Pool.Query(ctx, `SELECT id, created_at, kind, rule, table_name, row_key, coalesce(event->>'email', ''),
		reason, status FROM `+p.table("dead_letters")+` ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deadLetterView, error) {
		var d deadLetterView
		err := r.Scan(&d.ID, &d.At, &d.Kind, &d.Rule, &d.Table, &d.Key, &d.Email, &d.Reason, &d.Status)
		d.Key, d.Email, d.Reason = p.mask.text(d.Key), p.mask.text(d.Email), p.mask.text(d.Reason)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return out, nil
}

func (p *Page) table(name string) string {
	return pgx.Identifier{p.d.Config.Source.Schema, name}.Sanitize()
}

// counters reads the delivery counters and the per-rule counts from the
// process's metrics.
func (p *Page) counters() (sample, []ruleView, error) {
	s := sample{at: p.d.Now()}
	families, err := p.d.Gatherer.Gather()
	if err != nil {
		return s, nil, fmt.Errorf("read metrics: %w", err)
	}
	byRule := map[string]*ruleView{}
	rule := func(m *dto.Metric) *ruleView {
		name := label(m, "rule")
		if byRule[name] == nil {
			byRule[name] = &ruleView{Name: name}
		}
		return byRule[name]
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			v := m.GetCounter().GetValue()
			switch f.GetName() {
			case "cdc_bento_requests_total":
				s.requests += v
			case "cdc_events_delivered_total":
				s.events += v
				rule(m).Delivered += v
			case "cdc_rule_events_total":
				if label(m, "outcome") == "emitted" {
					rule(m).Emitted += v
				} else {
					rule(m).DeadLettered += v
				}
			}
		}
	}
	rules := make([]ruleView, 0, len(byRule))
	for _, r := range byRule {
		rules = append(rules, *r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	return s, rules, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
