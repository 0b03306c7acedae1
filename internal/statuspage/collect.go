package statuspage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"

	"github.com/pgbento/cdc/internal/reconcile"
)

// slotView is the replication slot as the server sees it.
type slotView struct {
	Name          string
	Missing       bool
	Active        bool
	WALStatus     string
	LagBytes      int64
	LagSeconds    float64
	RetainedBytes int64
}

// checkpointView is the stored position and when it last moved.
type checkpointView struct {
	Position  string
	UpdatedAt time.Time
	Age       time.Duration
}

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

// backfillView is one table's backfill progress.
type backfillView struct {
	Table     string
	Rows      int64
	Done      bool
	UpdatedAt time.Time
}

// slotSQL reads the slot's lag (to the confirmed flush), retained WAL (to
// restart_lsn) and the active reader's flush lag in seconds.
const slotSQL = `
SELECT s.active, coalesce(s.wal_status, ''),
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0)::bigint,
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn), 0)::bigint,
       coalesce(extract(epoch FROM r.flush_lag), 0)::float8
FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
WHERE s.slot_name = $1`

func (p *Page) slot(ctx context.Context) (*slotView, error) {
	v := &slotView{Name: p.d.Slot}
	err := p.d.Pool.QueryRow(ctx, slotSQL, p.d.Slot).Scan(&v.Active, &v.WALStatus, &v.LagBytes, &v.RetainedBytes, &v.LagSeconds)
	if errors.Is(err, pgx.ErrNoRows) {
		v.Missing = true
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read slot: %w", err)
	}
	return v, nil
}

func (p *Page) checkpoint(ctx context.Context, now time.Time) (*checkpointView, error) {
	var v checkpointView
	err := p.d.Pool.QueryRow(ctx, `SELECT commit_lsn::text || '#' || change_index || '.' || event_sub
		|| ' (end ' || end_lsn::text || ')', updated_at FROM `+p.table("checkpoint")+` WHERE slot_name = $1`, p.d.Slot).
		Scan(&v.Position, &v.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	v.Age = now.Sub(v.UpdatedAt).Round(time.Second)
	return &v, nil
}

// deadLetters reads the newest limit dead letters and the total.
func (p *Page) deadLetters(ctx context.Context, limit int) ([]deadLetterView, int64, error) {
	var total int64
	if err := p.d.Pool.QueryRow(ctx, `SELECT count(*) FROM `+p.table("dead_letters")).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count dead letters: %w", err)
	}
	rows, err := p.d.Pool.Query(ctx, `SELECT id, created_at, kind, rule, table_name, row_key, coalesce(event->>'email', ''),
		reason, status FROM `+p.table("dead_letters")+` ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deadLetterView, error) {
		var d deadLetterView
		err := r.Scan(&d.ID, &d.At, &d.Kind, &d.Rule, &d.Table, &d.Key, &d.Email, &d.Reason, &d.Status)
		d.Key, d.Email, d.Reason = p.mask.text(d.Key), p.mask.text(d.Email), p.mask.text(d.Reason)
		return d, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read dead letters: %w", err)
	}
	return out, total, nil
}

func (p *Page) backfills(ctx context.Context) ([]backfillView, error) {
	rows, err := p.d.Pool.Query(ctx, `SELECT table_name, rows_done, done, updated_at FROM `+p.table("backfill")+` ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("read backfills: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (backfillView, error) {
		var b backfillView
		err := r.Scan(&b.Table, &b.Rows, &b.Done, &b.UpdatedAt)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("read backfills: %w", err)
	}
	return out, nil
}

func (p *Page) lastReconcile(ctx context.Context) (*reconcile.LastRun, error) {
	return reconcile.Last(ctx, p.d.Pool, p.d.Schema)
}

func (p *Page) table(name string) string { return pgx.Identifier{p.d.Schema, name}.Sanitize() }

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
