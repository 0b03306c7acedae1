package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/stream"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// exampleDB is a database with examples/schema.sql and a few customers and
// orders, for the example rules' lookups.
func exampleDB(t *testing.T) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	schema, err := os.ReadFile("../../examples/schema.sql")
	require.NoError(t, err)
	db.Exec(t, string(schema))
	db.Exec(t, `INSERT INTO customers (id, email, first_name, last_name, plan, marketing_opt_in) VALUES
		(1, ' Ann@Example.com', 'Ann', 'Lee', 'pro', true),
		(2, 'bob@example.com', 'Bob', NULL, NULL, false)`)
	db.Exec(t, `INSERT INTO orders (id, customer_id, status, total, currency) VALUES
		(10, 1, 'paid', 19.99, 'EUR'),
		(11, 1, 'shipped', 5.00, 'EUR'),
		(12, 1, 'refunded', 100.00, 'EUR'),
		(13, 2, 'pending', 7.50, 'USD')`)
	return db
}

var (
	goldenCommit = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	goldenPaid   = time.Date(2026, 5, 1, 11, 58, 0, 0, time.UTC)
	goldenSigned = time.Date(2025, 12, 24, 9, 30, 0, 0, time.UTC)
)

// order is an orders row as replication decodes it (doc_values.go).
func order(id, customer int64, status string, kv ...any) stream.Row {
	r := stream.Row{
		"id": id, "customer_id": customer, "status": status, "total": stream.Numeric("19.99"),
		"currency": "EUR", "note": nil, "created_at": goldenPaid.Add(-time.Hour),
		"paid_at": nil, "shipped_at": nil, "refunded_at": nil,
	}
	return with(r, kv...)
}

func customer(id int64, kv ...any) stream.Row {
	r := stream.Row{
		"id": id, "email": " Ann@Example.com", "first_name": "Ann", "last_name": "Lee", "plan": "pro",
		"marketing_opt_in": true, "created_at": goldenSigned, "updated_at": goldenSigned,
	}
	return with(r, kv...)
}

func with(r stream.Row, kv ...any) stream.Row {
	for i := 0; i < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

func change(op stream.Op, table string, newRow, oldRow stream.Row) *stream.Change {
	return &stream.Change{
		Pos: stream.Position{CommitLSN: 0x1000, EndLSN: 0x1040, Index: 3},
		Op:  op, Table: table, Key: []string{"id"}, New: newRow, Old: oldRow,
		CommitTime: goldenCommit, Xid: 900,
	}
}

// goldenChanges covers every example rule, firing and not firing.
func goldenChanges() map[string]*stream.Change {
	const o, c = "public.orders", "public.customers"
	paid := []any{"paid_at", goldenPaid}
	return map[string]*stream.Change{
		"order_insert_paid":      change(stream.OpInsert, o, order(10, 1, "paid", paid...), nil),
		"order_insert_pending":   change(stream.OpInsert, o, order(14, 1, "pending"), nil),
		"order_pending_to_paid":  change(stream.OpUpdate, o, order(10, 1, "paid", paid...), order(10, 1, "pending")),
		"order_paid_to_shipped":  change(stream.OpUpdate, o, order(11, 1, "shipped", "shipped_at", goldenCommit), order(11, 1, "paid")),
		"order_shipped_refunded": change(stream.OpUpdate, o, order(12, 1, "refunded", "total", stream.Numeric("100.00")), order(12, 1, "shipped", "total", stream.Numeric("100.00"))),
		"order_note_edit":        change(stream.OpUpdate, o, order(10, 1, "paid", "note", "gift wrap"), order(10, 1, "paid")),
		"order_snapshot_paid":    change(stream.OpSnapshot, o, order(11, 1, "shipped", paid...), nil),
		"order_snapshot_pending": change(stream.OpSnapshot, o, order(13, 2, "pending", "currency", "USD"), nil),
		"order_unknown_customer": change(stream.OpInsert, o, order(15, 999, "paid", paid...), nil),
		"order_sub_cent_total":   change(stream.OpInsert, o, order(16, 1, "paid", "total", stream.Numeric("0.015")), nil),
		"customer_insert_opt_in": change(stream.OpInsert, c, customer(1), nil),
		"customer_insert_no_opt": change(stream.OpInsert, c, customer(2, "email", "bob@example.com", "marketing_opt_in", false), nil),
		"customer_snapshot":      change(stream.OpSnapshot, c, customer(1, "plan", nil), nil),
		"customer_null_email":    change(stream.OpInsert, c, customer(3, "email", nil), nil),
		"customer_rename":        change(stream.OpUpdate, c, customer(1, "last_name", "Park"), customer(1)),
		"customer_opt_out":       change(stream.OpUpdate, c, customer(1, "marketing_opt_in", false), customer(1)),
		"customer_opt_in":        change(stream.OpUpdate, c, customer(2, "email", "bob@example.com", "marketing_opt_in", true), customer(2, "email", "bob@example.com", "marketing_opt_in", false)),
		"customer_plan_change":   change(stream.OpUpdate, c, customer(1, "plan", "business"), customer(1)),
		"customer_first_plan":    change(stream.OpUpdate, c, customer(1), customer(1, "plan", nil)),
		"customer_touch":         change(stream.OpUpdate, c, customer(1, "updated_at", goldenCommit), customer(1)),
		"customer_no_old_row":    change(stream.OpUpdate, c, customer(1, "plan", "business"), nil),
		"customer_email_change":  change(stream.OpUpdate, c, customer(1, "email", "Ann.Lee@New.example", "plan", "business"), customer(1)),
		"customer_email_case":    change(stream.OpUpdate, c, customer(1, "email", "ANN@example.com"), customer(1)),
		"customer_email_was_bad": change(stream.OpUpdate, c, customer(1, "email", "ann@example.com"), customer(1, "email", "not an email")),
	}
}

// TestGolden runs examples/rules.yaml over goldenChanges and compares the
// items with testdata/golden/<name>.json. Run with -update to rewrite them,
// then read the diff: the files are the rules' specification by example.
func TestGolden(t *testing.T) {
	db := exampleDB(t)
	e := NewEvaluator(compileExample(t), db.Pool)
	for name, c := range goldenChanges() {
		t.Run(name, func(t *testing.T) {
			items, err := e.Evaluate(context.Background(), c, nil)
			require.NoError(t, err)
			got := renderItems(t, items)
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

// goldenItem is an Item as the golden files show it.
type goldenItem struct {
	Kind    string         `json:"kind"`
	Pos     string         `json:"pos"`
	Rule    string         `json:"rule"`
	Key     string         `json:"key"`
	Source  string         `json:"source,omitempty"`
	Type    string         `json:"type,omitempty"`
	Email   string         `json:"email,omitempty"`
	New     string         `json:"new_email,omitempty"`
	Date    time.Time      `json:"date,omitzero"`
	Fields  map[string]any `json:"fields,omitempty"`
	Details map[string]any `json:"details,omitempty"`
	Reason  string         `json:"reason,omitempty"`
}

func renderItems(t *testing.T, items []stream.Item) []byte {
	t.Helper()
	out := []goldenItem{}
	for _, it := range items {
		switch it.Kind {
		case stream.ItemEvent:
			ev := it.Event
			require.Equal(t, it.Pos, ev.Pos)
			require.Equal(t, goldenCommit, ev.Committed)
			out = append(out, goldenItem{Kind: "event", Pos: it.Pos.String(), Rule: ev.Rule, Key: ev.Key,
				Source: ev.Source, Type: ev.Type, Email: ev.Email, New: ev.NewEmail, Date: ev.Date, Fields: ev.Fields, Details: ev.Details})
		case stream.ItemFailure:
			f := it.Failure
			out = append(out, goldenItem{Kind: "failure", Pos: it.Pos.String(), Rule: f.Rule, Key: f.Key, Reason: f.Reason})
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(out))
	return b.Bytes()
}
