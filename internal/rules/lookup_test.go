package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pgvalue"
	"github.com/pgbento/cdc/internal/stream"
)

func lookupSpec(sql string, args []string, cache time.Duration, fields map[string]any) Spec {
	return Spec{
		Name: "l", Table: "orders", On: []string{"insert"},
		Lookups: map[string]Lookup{"x": {SQL: sql, Args: args, Cache: cache}},
		Event:   EventSpec{Type: "t", Email: `= "a@b.c"`, Fields: fields},
	}
}

func orderInsert(row stream.Row) *stream.Change {
	return &stream.Change{Op: stream.OpInsert, Table: "public.orders", Key: []string{"id"}, New: row, CommitTime: commitTime}
}

// TestLookupValueTypes: lookup rows follow the stream's value conventions
// (pgvalue decodes both), whatever the type: a date is an ISO date, an
// infinite one "infinity", an interval its text, a timestamptz a UTC time
// at any session time zone, which the lookup keeps.
func TestLookupValueTypes(t *testing.T) {
	db := exampleDB(t)
	conn, err := db.Pool.Acquire(context.Background())
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(context.Background(), `SET TimeZone = 'Asia/Kolkata'`)
	require.NoError(t, err)
	sql := `select 19.90::numeric(12,2) as num, 7::int4 as i4, 8::int8 as i8, 2::int2 as i2, 1.5::float4 as f4,
		'paid'::order_status as status, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as id,
		'2026-01-02T03:04:05Z'::timestamptz as at, true as ok, null::text as missing,
		$1::numeric * 2 as doubled, '2026-01-02'::date as day, 'infinity'::date as forever,
		'-infinity'::timestamptz as never, '1 day 02:00:00'::interval as span, '12:34:56'::time as clock,
		'{"n": 1.10}'::jsonb as doc, ARRAY['2026-01-02'::date] as days, current_setting('TimeZone') as tz`
	row, err := queryRow(context.Background(), conn, pgvalue.New(), &lookup{sql: sql, timeout: time.Second, begin: beginReadOnly(time.Second)}, []any{"1.25"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"num": stream.Numeric("19.90"), "i4": int64(7), "i8": int64(8), "i2": int64(2), "f4": 1.5,
		"status": "paid", "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"at": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "ok": true, "missing": nil,
		"doubled": stream.Numeric("2.50"), "day": "2026-01-02", "forever": "infinity", "never": "-infinity",
		"span": "1 day 02:00:00", "clock": "12:34:56", "doc": map[string]any{"n": json.Number("1.10")},
		"days": []any{"2026-01-02"}, "tz": "Asia/Kolkata",
	}, row)
}

func TestLookupInEvent(t *testing.T) {
	db := exampleDB(t)
	tests := []struct {
		name   string
		sql    string
		args   []string
		row    stream.Row
		fields map[string]any
		want   map[string]any
		reason string
	}{
		{"numeric arg and result", "select $1::numeric * 2 as total", []string{"new.total"},
			stream.Row{"total": stream.Numeric("10.25")}, map[string]any{"v": "= cents(lookup.x.total)"},
			map[string]any{"v": int64(2050)}, ""},
		{"no row is nil", "select email from customers where id = $1", []string{"new.customer_id"},
			stream.Row{"customer_id": int64(999)}, map[string]any{"found": "= lookup.x != nil", "email": "= lookup.x?.email"},
			map[string]any{"found": false, "email": nil}, ""},
		{"row", "select first_name from customers where id = $1", []string{"new.customer_id"},
			stream.Row{"customer_id": int64(1)}, map[string]any{"name": "= lookup.x.first_name"},
			map[string]any{"name": "Ann"}, ""},
		{"data exception is a row failure", "select 1 / $1::int as x", []string{"new.n"},
			stream.Row{"n": int64(0)}, nil, nil, "rules[0].lookups.x: division by zero (SQLSTATE 22012)"},
		{"unchanged arg", "select $1::text as x", []string{"new.note"},
			stream.Row{"note": stream.Unchanged}, nil, nil, "column note is an unchanged TOAST value"},
		{"bad arg type", "select $1::text as x", []string{"[new.a]"},
			stream.Row{"a": "x"}, nil, nil, "rules[0].lookups.x.args[0]: a lookup argument must be a scalar"},
		{"arg expression error", "select $1::text as x", []string{"lower(new.a)"},
			stream.Row{"a": int64(1)}, nil, nil, "rules[0].lookups.x.args[0]: lower: want a string, got int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, Defaults{}, lookupSpec(tt.sql, tt.args, 0, tt.fields))
			items, err := NewEvaluator(s, db.Pool).Evaluate(context.Background(), orderInsert(tt.row), nil)
			require.NoError(t, err)
			require.Len(t, items, 1)
			if tt.reason != "" {
				require.Equal(t, stream.ItemFailure, items[0].Kind)
				require.Contains(t, items[0].Failure.Reason, tt.reason)
				return
			}
			require.Equal(t, stream.ItemEvent, items[0].Kind, "%+v", items[0].Failure)
			require.Equal(t, tt.want, items[0].Event.Fields)
		})
	}
}

// TestLookupCache: within the TTL a lookup answers from the cache, keyed by
// its arguments; after it, from the database again.
func TestLookupCache(t *testing.T) {
	db := exampleDB(t)
	s := mustCompile(t, Defaults{}, lookupSpec("select first_name from customers where id = $1",
		[]string{"new.customer_id"}, time.Minute, map[string]any{"name": "= lookup.x.first_name"}))
	e := NewEvaluator(s, db.Pool)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e.cache.now = func() time.Time { return now }
	name := func(customer int64) any {
		t.Helper()
		items, err := e.Evaluate(context.Background(), orderInsert(stream.Row{"customer_id": customer}), nil)
		require.NoError(t, err)
		return items[0].Event.Fields["name"]
	}

	require.Equal(t, "Ann", name(1))
	db.Exec(t, "UPDATE customers SET first_name = 'Anna' WHERE id = 1")
	require.Equal(t, "Ann", name(1), "cached")
	require.Equal(t, "Bob", name(2), "other args are another entry")
	now = now.Add(time.Minute)
	require.Equal(t, "Anna", name(1), "expired")
}

func TestLookupConnectionErrorIsRetryable(t *testing.T) {
	db := exampleDB(t)
	s := mustCompile(t, Defaults{}, lookupSpec("select 1 as x", nil, 0, nil))
	db.Pool.Close()
	prior := []stream.Item{{Kind: stream.ItemMark}}
	items, err := NewEvaluator(s, db.Pool).Evaluate(context.Background(), orderInsert(stream.Row{}), prior)
	require.True(t, errors.Is(err, ErrLookup), "%v", err)
	require.Equal(t, prior, items)
}

func TestLookupCacheIsBounded(t *testing.T) {
	c := newLookupCache()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	l := &lookup{name: "x"}
	for i := range maxCacheEntries {
		c.put(cacheKey{l: l, args: argsKey([]any{int64(i)})}, map[string]any{"i": i}, time.Minute)
	}
	require.Len(t, c.entries, maxCacheEntries)
	c.put(cacheKey{l: l, args: "new"}, nil, time.Minute)
	require.Len(t, c.entries, 1, "full of live entries: start over")
	now = now.Add(2 * time.Minute)
	_, ok := c.get(cacheKey{l: l, args: "new"})
	require.False(t, ok)
	require.NotEqual(t, argsKey([]any{int64(1)}), argsKey([]any{"1"}))
}

func TestCheckLookups(t *testing.T) {
	db := exampleDB(t)
	require.NoError(t, compileExample(t).CheckLookups(context.Background(), db.Pool))

	bad := []Spec{
		lookupSpec("select emial from customers where id = $1", []string{"new.id"}, 0, nil),
		lookupSpec("select 1 from nope where id = $1", []string{"new.id"}, 0, nil),
		lookupSpec("select email from customers where id = $1 and email > 3", []string{"new.id"}, 0, nil),
	}
	for i := range bad {
		bad[i].Name = fmt.Sprintf("r%d", i)
	}
	err := mustCompile(t, Defaults{}, bad...).CheckLookups(context.Background(), db.Pool)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Equal(t, []string{
		`rule "r0": rules[0].lookups.x.sql: column "emial" does not exist (SQLSTATE 42703)`,
		`rule "r1": rules[1].lookups.x.sql: relation "nope" does not exist (SQLSTATE 42P01)`,
		`rule "r2": rules[2].lookups.x.sql: operator does not exist: text > integer (SQLSTATE 42883)`,
	}, errorStrings(errs))

	db.Pool.Close()
	err = compileExample(t).CheckLookups(context.Background(), db.Pool)
	require.Error(t, err)
	require.False(t, errors.As(err, &errs), "a connection problem is not a rule problem")
}

// pwnLookup writes through a CTE: its first word is "with", so only the
// read-only transaction and check's look at the plan stop it (issue 15.9).
const pwnLookup = `with x as (update customers set plan = 'pwned' returning email) select email from x`

func requireNotPwned(t *testing.T, db *pgtest.DB) {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM customers WHERE plan = 'pwned'`).Scan(&n))
	require.Zero(t, n, "a lookup changed rows")
}

// TestCheckLookupsRejectsWrites: check plans every lookup in a read-only
// transaction and rejects one whose plan modifies a table.
func TestCheckLookupsRejectsWrites(t *testing.T) {
	db := exampleDB(t)
	s := mustCompile(t, Defaults{}, lookupSpec(pwnLookup, nil, 0, nil))
	err := s.CheckLookups(context.Background(), db.Pool)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Equal(t, []string{`rule "l": rules[0].lookups.x.sql: a lookup must only read, but this one would UPDATE rows ` +
		`(planned in a read-only transaction); at run time it would fail and hold the stream`}, errorStrings(errs))
	requireNotPwned(t, db)
}

// TestLookupRunsReadOnly: even past check (a write hidden in a function,
// or the CTE itself), a lookup runs in a read-only transaction: it fails as
// a lookup error (the change is retried, never dead-lettered or lost) and
// no row changes.
func TestLookupRunsReadOnly(t *testing.T) {
	db := exampleDB(t)
	db.Exec(t, `CREATE FUNCTION pwn() RETURNS text LANGUAGE sql AS $$ UPDATE customers SET plan = 'pwned' RETURNING email $$`)
	for _, sql := range []string{pwnLookup, "select pwn() as email"} {
		t.Run(sql, func(t *testing.T) {
			s := mustCompile(t, Defaults{}, lookupSpec(sql, nil, 0, nil))
			_, err := NewEvaluator(s, db.Pool).Evaluate(context.Background(), orderInsert(stream.Row{}), nil)
			require.ErrorIs(t, err, ErrLookup)
			require.Contains(t, err.Error(), "read-only transaction")
			requireNotPwned(t, db)
		})
	}
}

// TestLookupTimeoutSetting: defaults.lookup_timeout defaults to 5s and
// must be at least a millisecond (the server's unit).
func TestLookupTimeoutSetting(t *testing.T) {
	s := mustCompile(t, Defaults{}, lookupSpec("select 1 as x", nil, 0, nil))
	require.Equal(t, DefaultLookupTimeout, s.rules[0].lookups[0].timeout)
	s = mustCompile(t, Defaults{LookupTimeout: 250 * time.Millisecond}, lookupSpec("select 1 as x", nil, 0, nil))
	require.Equal(t, 250*time.Millisecond, s.rules[0].lookups[0].timeout)
	_, err := Compile(Defaults{LookupTimeout: -time.Second}, []Spec{lookupSpec("select 1 as x", nil, 0, nil)})
	require.EqualError(t, err, "defaults.lookup_timeout: lookup_timeout must be at least 1ms")
}
