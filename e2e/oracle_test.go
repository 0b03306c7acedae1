package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentotest"
)

// want is what the database says Bento must have received under the
// example rules, for the writer's kinds of changes.
type want struct {
	keyed   map[string]string // event identity -> email; see identity
	updates map[string]int    // email -> $update_fields (one per order ever paid)
	totals  map[string]int64  // email -> cents of every order ever paid
}

func wantFromDB(t *testing.T, pool *pgxpool.Pool) want {
	t.Helper()
	ctx := context.Background()
	w := want{keyed: map[string]string{}, updates: map[string]int{}, totals: map[string]int64{}}
	rows, err := pool.Query(ctx, `SELECT lower(trim(email)) FROM customers WHERE marketing_opt_in`)
	require.NoError(t, err)
	for rows.Next() {
		var email string
		require.NoError(t, rows.Scan(&email))
		w.keyed["$subscribe:"+email] = email
	}
	require.NoError(t, rows.Err())
	rows, err = pool.Query(ctx, `SELECT o.id, lower(trim(c.email)), (o.total * 100)::bigint, o.shipped_at IS NOT NULL
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.paid_at IS NOT NULL`)
	require.NoError(t, err)
	for rows.Next() {
		var id, cents int64
		var email string
		var shipped bool
		require.NoError(t, rows.Scan(&id, &email, &cents, &shipped))
		w.keyed[fmt.Sprintf("$purchase:%d", id)] = email
		if shipped {
			w.keyed[fmt.Sprintf("order_shipped:%d", id)] = email
		}
		w.updates[email]++
		w.totals[email] += cents
	}
	require.NoError(t, rows.Err())
	return w
}

// identity names an event that must arrive exactly once: a purchase by its
// unique key, a subscribe by its email, a shipment by its order. Other
// events ("" here) are counted per email.
func identity(ev bentotest.ReceivedEvent) string {
	switch ev.Type {
	case "$purchase":
		u, _ := ev.Details["unique"].(map[string]any)
		return fmt.Sprintf("$purchase:%v", u["key"])
	case "$subscribe":
		return "$subscribe:" + ev.Email
	case "order_shipped":
		return fmt.Sprintf("order_shipped:%v", ev.Details["order_id"])
	}
	return ""
}

// label is an event as the writer's per-email expectations spell it.
func label(ev bentotest.ReceivedEvent) string {
	if id := identity(ev); id != "" && ev.Type != "$subscribe" {
		return id
	}
	return ev.Type
}

// tally is what the stand-in received, grouped the way want is.
type tally struct {
	copies  map[string][]bentotest.ReceivedEvent // identity -> every copy, in arrival order
	updates map[string]int
}

func tallyOf(got []bentotest.ReceivedEvent) tally {
	tl := tally{copies: map[string][]bentotest.ReceivedEvent{}, updates: map[string]int{}}
	for _, ev := range got {
		if id := identity(ev); id != "" {
			tl.copies[id] = append(tl.copies[id], ev)
		} else if ev.Type == "$update_fields" {
			tl.updates[ev.Email]++
		}
	}
	return tl
}

// complete reports whether every wanted event has arrived at least once.
func (w want) complete(got []bentotest.ReceivedEvent) bool {
	tl := tallyOf(got)
	for id := range w.keyed {
		if len(tl.copies[id]) == 0 {
			return false
		}
	}
	for email, n := range w.updates {
		if tl.updates[email] < n {
			return false
		}
	}
	return true
}

// waitDelivered waits until everything the database implies has arrived.
func (e *env) waitDelivered(t *testing.T, timeout time.Duration) want {
	t.Helper()
	w := wantFromDB(t, e.db.Pool)
	require.NotEmpty(t, w.keyed)
	require.Eventually(t, func() bool { return w.complete(e.fake.Received()) }, timeout, 100*time.Millisecond,
		"the stand-in never received every event the database implies: %s", w.missing(e.fake.Received()))
	return w
}

// missing describes the first few wanted events that have not arrived.
func (w want) missing(got []bentotest.ReceivedEvent) string {
	tl := tallyOf(got)
	var out []string
	for id := range w.keyed {
		if len(tl.copies[id]) == 0 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return fmt.Sprintf("%d missing, e.g. %v", len(out), out[:min(len(out), 10)])
}

// check asserts that exactly the wanted events arrived, ignoring extra
// copies, that the stand-in's purchase totals (deduplicated by unique key,
// as Bento does) equal the database's, and returns the extra copies.
func (w want) check(t *testing.T, fake *bentotest.Server) (dups int) {
	t.Helper()
	got := fake.Received()
	tl := tallyOf(got)
	for id, copies := range tl.copies {
		_, ok := w.keyed[id]
		require.True(t, ok, "the stand-in received %s, which the database does not imply", id)
		dups += len(copies) - 1
	}
	require.Len(t, tl.copies, len(w.keyed), w.missing(got))
	for email, n := range tl.updates {
		require.GreaterOrEqual(t, n, w.updates[email], "$update_fields for %s", email)
		dups += n - w.updates[email]
	}
	require.Equal(t, w.totals, fake.PurchaseTotals(), "per-customer purchase totals at the stand-in differ from the database")
	for id, email := range w.keyed {
		require.Equal(t, email, tl.copies[id][0].Email, "email of %s", id)
	}
	return dups
}
