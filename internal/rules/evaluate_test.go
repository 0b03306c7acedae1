package rules

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

var commitTime = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// signupSpec emits $subscribe for customers straight from the row.
func signupSpec(name string) Spec {
	return Spec{
		Name: name, Table: "customers", On: []string{"insert", "update"},
		Event: EventSpec{
			Type: "$subscribe", Email: "= lower(trim(new.email))",
			Fields: map[string]any{"plan": "= new.plan", "vip": true},
		},
	}
}

// purchaseSpec is a $purchase rule without lookups.
func purchaseSpec() Spec {
	return Spec{
		Name: "purchase", Table: "orders", On: []string{"insert", "update"},
		When: `new.status == "paid" && (op != "update" || old.status != "paid")`,
		Event: EventSpec{
			Type: "$purchase", Email: "= lower(trim(new.email))", Date: "= new.paid_at", Source: "pos",
			Details: map[string]any{
				"unique": map[string]any{"key": "= string(new.id)"},
				"value":  map[string]any{"amount": "= cents(new.total)", "currency": "= new.currency"},
			},
		},
	}
}

func mustCompile(t testing.TB, d Defaults, specs ...Spec) *Set {
	t.Helper()
	s, err := Compile(d, specs)
	require.NoError(t, err)
	return s
}

func customerInsert(email any) *stream.Change {
	return &stream.Change{
		Pos: stream.Position{CommitLSN: 0x100, EndLSN: 0x180, Index: 2},
		Op:  stream.OpInsert, Table: "public.customers", Key: []string{"id"},
		New:        stream.Row{"id": int64(7), "email": email, "plan": "pro"},
		CommitTime: commitTime,
	}
}

func paidOrder() *stream.Change {
	return &stream.Change{
		Pos: stream.Position{CommitLSN: 0x200, EndLSN: 0x280, Index: 0},
		Op:  stream.OpUpdate, Table: "public.orders", Key: []string{"id"},
		New: stream.Row{"id": int64(42), "email": "Ann@Example.com", "status": "paid", "total": stream.Numeric("19.99"),
			"currency": "EUR", "paid_at": commitTime.Add(-time.Minute)},
		Old:        stream.Row{"id": int64(42), "status": "pending"},
		CommitTime: commitTime,
	}
}

func TestEvaluateEvent(t *testing.T) {
	s := mustCompile(t, Defaults{Source: "billing"}, signupSpec("signup"))
	items, err := NewEvaluator(s, nil).Evaluate(context.Background(), customerInsert(" Ann@Example.com"), nil)
	require.NoError(t, err)
	require.Len(t, items, 1)
	pos := stream.Position{CommitLSN: 0x100, EndLSN: 0x180, Index: 2, Sub: 1}
	require.Equal(t, stream.Item{Kind: stream.ItemEvent, Pos: pos, Event: &stream.Event{
		Pos: pos, Rule: "signup", Table: "public.customers", Key: "id=7", Source: "billing",
		Type: "$subscribe", Email: "ann@example.com",
		Fields: map[string]any{"plan": "pro", "vip": true},
		Date:   commitTime, Committed: commitTime,
	}}, items[0])
}

func TestEvaluatePurchase(t *testing.T) {
	s := mustCompile(t, Defaults{}, purchaseSpec())
	e := NewEvaluator(s, nil)
	items, err := e.Evaluate(context.Background(), paidOrder(), nil)
	require.NoError(t, err)
	require.Len(t, items, 1)
	ev := items[0].Event
	require.Equal(t, map[string]any{
		"unique": map[string]any{"key": "42"},
		"value":  map[string]any{"amount": int64(1999), "currency": "EUR"},
	}, ev.Details)
	require.Equal(t, commitTime.Add(-time.Minute), ev.Date)
	require.Equal(t, "pos", ev.Source)

	again := paidOrder()
	again.Old["status"] = "paid"
	items, err = e.Evaluate(context.Background(), again, nil)
	require.NoError(t, err)
	require.Empty(t, items, "paid -> paid is not a new purchase")
}

func TestEvaluateIgnoresMarkersAndOtherTables(t *testing.T) {
	s := mustCompile(t, Defaults{}, signupSpec("signup"))
	e := NewEvaluator(s, nil)
	for _, c := range []*stream.Change{
		{Op: stream.OpCommit},
		{Op: stream.OpTruncate, Tables: []string{"public.customers"}},
		{Op: stream.OpMessage, Prefix: "x"},
		{Op: stream.OpDelete, Table: "public.customers", Old: stream.Row{"id": int64(1)}},
		{Op: stream.OpInsert, Table: "public.orders", New: stream.Row{"email": "a@b.c"}},
	} {
		items, err := e.Evaluate(context.Background(), c, nil)
		require.NoError(t, err)
		require.Empty(t, items, c.Op.String())
	}
}

// TestEvaluateRuntimeErrors: each row problem becomes a dead letter naming
// the rule, the field and the reason, and the rules after it still run.
func TestEvaluateRuntimeErrors(t *testing.T) {
	tests := []struct {
		name   string
		spec   func() Spec
		change func() *stream.Change
		reason string
	}{
		{"null email", func() Spec { return signupSpec("r") }, func() *stream.Change { return customerInsert(nil) },
			"rules[0].event.email: email is null"},
		{"malformed email", func() Spec { return signupSpec("r") }, func() *stream.Change { return customerInsert("ann at example") },
			"rules[0].event.email: email is malformed"},
		{"expression error", func() Spec { return signupSpec("r") }, func() *stream.Change { return customerInsert(int64(5)) },
			"rules[0].event.email: trim: want a string, got int64"},
		{"unchanged toast in output", func() Spec { return signupSpec("r") },
			func() *stream.Change { c := customerInsert("a@b.c"); c.New["plan"] = stream.Unchanged; return c },
			"column plan is an unchanged TOAST value; set REPLICA IDENTITY FULL on public.customers"},
		{"no old row", purchaseSpec, func() *stream.Change { c := paidOrder(); c.Old = nil; return c },
			"the rule reads the old status but the server sent no old value; set REPLICA IDENTITY FULL on public.orders"},
		{"key-only old row", purchaseSpec, func() *stream.Change {
			c := paidOrder()
			c.Old, c.OldIsKey = stream.Row{"id": int64(42)}, true
			return c
		}, "the rule reads the old status but the old row holds only the replica identity key (id); set REPLICA IDENTITY FULL on public.orders"},
		{"renamed column", purchaseSpec, func() *stream.Change {
			c := paidOrder()
			c.New["state"], c.Old["state"] = c.New["status"], c.Old["status"]
			delete(c.New, "status")
			delete(c.Old, "status")
			return c
		}, "column status is not in this change to public.orders"},
		{"old row without a dropped column", purchaseSpec, func() *stream.Change {
			c := paidOrder()
			c.Columns = []string{"id", "customer_id", "total", "currency", "paid_at"}
			delete(c.Old, "status")
			return c
		}, "column status is not in this change to public.orders (it carries id, customer_id, total, currency, paid_at): the table's schema changed"},
		{"unrepresentable value read", purchaseSpec, func() *stream.Change {
			c := paidOrder()
			c.New["currency"] = stream.Unrepresentable{Reason: "decode json: exceeded max depth"}
			return c
		}, "column currency of public.orders holds a value the syncer cannot represent (decode json: exceeded max depth)"},
		{"whole row with an unchanged value", func() Spec {
			sp := purchaseSpec()
			sp.Event.Details["row"] = "= new"
			return sp
		}, func() *stream.Change { c := paidOrder(); c.New["note"] = stream.Unchanged; return c },
			"column note is an unchanged TOAST value"},
		{"fractional cents", purchaseSpec, func() *stream.Change { c := paidOrder(); c.New["total"] = stream.Numeric("19.999"); return c },
			"rules[0].event.details.value.amount: cents: 19.999 has more than 2 decimal places"},
		{"float total", purchaseSpec, func() *stream.Change { c := paidOrder(); c.New["total"] = 19.99; return c },
			"cents: 19.99 is a float"},
		{"null date", purchaseSpec, func() *stream.Change { c := paidOrder(); c.New["paid_at"] = nil; return c },
			"rules[0].event.date: date is null"},
		{"bad date", purchaseSpec, func() *stream.Change { c := paidOrder(); c.New["paid_at"] = "yesterday"; return c },
			`rules[0].event.date: parse time "yesterday": want RFC 3339`},
		{"null currency", purchaseSpec, func() *stream.Change { c := paidOrder(); c.New["currency"] = nil; return c },
			"rules[0].event.details.value.currency: details.value.currency must be a non-empty string, got null"},
		{"nan in details", func() Spec {
			sp := purchaseSpec()
			sp.Event.Details["value"].(map[string]any)["amount"] = "= new.total"
			return sp
		}, func() *stream.Change { c := paidOrder(); c.New["total"] = stream.Numeric("NaN"); return c },
			"rules[0].event.details.value.amount: numeric value NaN cannot be sent to Bento"},
		{"non-integer amount", func() Spec {
			sp := purchaseSpec()
			sp.Event.Details["value"].(map[string]any)["amount"] = "= new.total"
			return sp
		}, paidOrder, "details.value.amount must be an integer in minor units, got a stream.Numeric (use cents(...))"},
		{"nested field value", func() Spec {
			sp := signupSpec("r")
			sp.Event.Fields["plan"] = "= {\"a\": 1}"
			return sp
		}, func() *stream.Change { return customerInsert("a@b.c") }, "rules[0].event.fields.plan: fields must be flat"},
		{"when not bool", func() Spec { sp := signupSpec("r"); sp.When = "new.plan"; return sp },
			func() *stream.Change { return customerInsert("a@b.c") }, "rules[0].when: "},
		{"when error", func() Spec { sp := signupSpec("r"); sp.When = "new.plan > 3"; return sp },
			func() *stream.Change { return customerInsert("a@b.c") }, "rules[0].when: invalid operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := tt.spec()
			sp.Name = "bad"
			after := signupSpec("after")
			after.Table, after.Event.Email, after.Event.Fields = sp.Table, `= "ops@example.com"`, nil
			s := mustCompile(t, Defaults{}, sp, after)
			c := tt.change()
			items, err := NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
			require.NoError(t, err)
			require.Len(t, items, 2)
			require.Equal(t, stream.ItemFailure, items[0].Kind)
			f := items[0].Failure
			require.Contains(t, f.Reason, tt.reason)
			require.Equal(t, "bad", f.Rule)
			require.Equal(t, c.Table, f.Table)
			require.Equal(t, c.KeyString(), f.Key)
			require.Equal(t, 1, f.Pos.Sub)
			require.Equal(t, f.Pos, items[0].Pos)
			require.True(t, json.Valid(f.Change), string(f.Change))
			require.Equal(t, stream.ItemEvent, items[1].Kind, "the next rule still runs")
			require.Equal(t, 2, items[1].Pos.Sub)
		})
	}
}

func TestFailureCarriesChangeAndPartialEvent(t *testing.T) {
	s := mustCompile(t, Defaults{}, purchaseSpec())
	c := paidOrder()
	c.New["currency"] = ""
	c.New["note"] = stream.Unchanged
	c.New["blob"] = []byte("hi")
	items, err := NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	f := items[0].Failure
	back, err := stream.UnmarshalChange(f.Change)
	require.NoError(t, err, "the dead letter can be replayed")
	require.Equal(t, c.New, back.New)
	require.Equal(t, c.Old, back.Old)
	require.Equal(t, c.Pos.CommitLSN, back.Pos.CommitLSN)
	require.JSONEq(t, `{"type":"$purchase","email":"ann@example.com","source":"pos","date":"2026-05-01T11:59:00Z",
		"details":{"unique":{"key":"42"},"value":{"amount":1999,"currency":""}}}`, string(f.Event))
}

// TestFailureWithNaNFloat: a row stream's codec cannot store still
// reaches the dead letter, readable.
func TestFailureWithNaNFloat(t *testing.T) {
	s := mustCompile(t, Defaults{}, signupSpec("r"))
	c := customerInsert(nil)
	c.New["score"] = math.NaN()
	items, err := NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	back, err := stream.UnmarshalChange(items[0].Failure.Change)
	require.NoError(t, err, "the dead letter keeps a replayable change")
	require.True(t, math.IsNaN(back.New["score"].(float64)))
	require.Equal(t, int64(7), back.New["id"])
}

func TestOnErrorModes(t *testing.T) {
	bad := signupSpec("bad")
	good := signupSpec("good")
	good.Event.Email = `= "ops@example.com"`
	c := customerInsert(nil)
	prior := []stream.Item{{Kind: stream.ItemMark}}

	bad.OnError = "skip"
	items, err := NewEvaluator(mustCompile(t, Defaults{}, bad, good), nil).Evaluate(context.Background(), c, prior)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, "good", items[1].Event.Rule)
	require.Equal(t, 2, items[1].Pos.Sub, "a skipped rule keeps its ordinal")

	bad.OnError = ""
	items, err = NewEvaluator(mustCompile(t, Defaults{OnError: "stop"}, good, bad), nil).Evaluate(context.Background(), c, prior)
	var re *RuleError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "bad", re.Rule)
	require.Equal(t, "id=7", re.Key)
	require.Equal(t, 2, re.Pos.Sub)
	require.ErrorContains(t, err, `rule "bad" on public.customers (id=7) at 0/100#2.2: rules[1].event.email: email is null`)
	require.ErrorContains(t, err, `set its on_error to dead_letter`, "the way past it")
	require.Equal(t, prior, items, "on stop dst comes back as given")
}

// TestEvaluateReplayDropsDelivered: after a restart at Sub = 1 the first
// matched rule's event is not produced again and the second keeps Sub 2.
func TestEvaluateReplayDropsDelivered(t *testing.T) {
	first, second := signupSpec("first"), signupSpec("second")
	skipped := signupSpec("not_matching")
	skipped.When = "false"
	s := mustCompile(t, Defaults{}, skipped, first, second)
	c := customerInsert("a@b.c")
	e := NewEvaluator(s, nil)

	all, err := e.Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, []int{1, 2}, []int{all[0].Pos.Sub, all[1].Pos.Sub})

	c.Pos.Sub = 1
	rest, err := e.Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.Equal(t, all[1].Event, rest[0].Event)

	c.Pos.Sub = 2
	rest, err = e.Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Empty(t, rest)
}

// TestWhenNullIsFalse: as in SQL, a null condition does not match.
func TestWhenNullIsFalse(t *testing.T) {
	sp := signupSpec("r")
	sp.When = "new.plan"
	c := customerInsert("a@b.c")
	c.New["plan"] = nil
	items, err := NewEvaluator(mustCompile(t, Defaults{}, sp), nil).Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Empty(t, items)
}

func TestEvaluateLookupWithoutQuerier(t *testing.T) {
	sp := signupSpec("r")
	sp.Lookups = map[string]Lookup{"x": {SQL: "select 1"}}
	items, err := NewEvaluator(mustCompile(t, Defaults{}, sp), nil).Evaluate(context.Background(), customerInsert("a@b.c"), nil)
	require.True(t, errors.Is(err, ErrLookup), "%v", err)
	require.Empty(t, items)
}

func TestEvaluateDeleteUsesOld(t *testing.T) {
	sp := signupSpec("gone")
	sp.On = []string{"delete"}
	sp.Event = EventSpec{Type: "customer_deleted", Email: "= old.email", Date: "2026-01-02T03:04:05Z"}
	s := mustCompile(t, Defaults{}, sp)
	c := &stream.Change{Op: stream.OpDelete, Table: "public.customers", Key: []string{"id"},
		Old: stream.Row{"id": int64(1), "email": "a@b.c"}, CommitTime: commitTime}
	items, err := NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Equal(t, "a@b.c", items[0].Event.Email)
	require.Equal(t, "id=1", items[0].Event.Key)
	require.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), items[0].Event.Date)
	require.Equal(t, []string{"gone"}, s.ReadsOld("public.customers"))
}

// TestOldColumnReasons: on a delete, a key-only old row lacks a column the
// table has (replica identity) or one it no longer has (schema change).
func TestOldColumnReasons(t *testing.T) {
	sp := Spec{Name: "gone", Table: "orders", On: []string{"delete"},
		Event: EventSpec{Type: "order_deleted", Email: `= "ops@example.com"`, Details: map[string]any{"was": "= old.status"}}}
	s := mustCompile(t, Defaults{}, sp)
	for _, tt := range []struct {
		columns []string
		reason  string
	}{
		{[]string{"id", "status"}, "the old row holds only the replica identity key (id); set REPLICA IDENTITY FULL on public.orders"},
		{[]string{"id", "state"}, "column status is not in this change to public.orders (it carries id, state): the table's schema changed"},
	} {
		c := &stream.Change{Op: stream.OpDelete, Table: "public.orders", Key: []string{"id"}, Columns: tt.columns,
			Old: stream.Row{"id": int64(1)}, OldIsKey: true, CommitTime: commitTime}
		items, err := NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
		require.NoError(t, err)
		require.Len(t, items, 1)
		require.Contains(t, items[0].Failure.Reason, tt.reason)
	}
}
