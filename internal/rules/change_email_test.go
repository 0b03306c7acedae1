package rules

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func changeEmailSpec(ev EventSpec) Spec {
	return Spec{Name: "email_change", Table: "customers", On: []string{"update"},
		When: `changed("email")`, Event: ev}
}

// Issue 11, item 12: a $change_email rule emits the old and the new
// address, checked as emails.
func TestChangeEmailEvent(t *testing.T) {
	s := mustCompile(t, Defaults{}, changeEmailSpec(EventSpec{Type: stream.TypeChangeEmail,
		Email: "= lower(trim(old.email))", NewEmail: "= lower(trim(new.email))"}))
	c := &stream.Change{Op: stream.OpUpdate, Table: "public.customers", Key: []string{"id"}, CommitTime: commitTime,
		Old: stream.Row{"id": int64(7), "email": "Ann@Example.com"}, New: stream.Row{"id": int64(7), "email": "ann@new.example"}}
	items, err := NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.Equal(t, stream.TypeChangeEmail, items[0].Event.Type)
	require.Equal(t, "ann@example.com", items[0].Event.Email)
	require.Equal(t, "ann@new.example", items[0].Event.NewEmail)

	c.New["email"] = "not an email"
	items, err = NewEvaluator(s, nil).Evaluate(context.Background(), c, nil)
	require.NoError(t, err)
	require.Equal(t, stream.ItemFailure, items[0].Kind)
	require.Contains(t, items[0].Failure.Reason, "new_email")
}

// A $change_email is checked at load: it needs new_email and carries
// nothing else; new_email means nothing on another type.
func TestChangeEmailCheckedAtLoad(t *testing.T) {
	tests := []struct {
		ev   EventSpec
		want string
	}{
		{EventSpec{Type: stream.TypeChangeEmail, Email: "= old.email"}, "rules[0].event.new_email: a $change_email needs new_email"},
		{EventSpec{Type: stream.TypeChangeEmail, Email: "= old.email", NewEmail: "= new.email",
			Fields: map[string]any{"x": 1}}, "a $change_email is a command: it takes only email and new_email"},
		{EventSpec{Type: "$update_fields", Email: "= new.email", NewEmail: "= new.email"},
			"rules[0].event.new_email: new_email is only for type $change_email"},
	}
	for _, tt := range tests {
		_, err := Compile(Defaults{}, []Spec{changeEmailSpec(tt.ev)})
		require.ErrorContains(t, err, tt.want)
	}
}

// Issue 11, item 12: a cached lookup never serves a row from before a
// change the stream has shown for its table: the example caches customer
// emails for 30s, and an order after an email change must go to the new
// address, after the change_email.
func TestLookupCacheInvalidatedByChangesToItsTable(t *testing.T) {
	db := exampleDB(t)
	order := lookupSpec("select email from customers where id = $1", []string{"new.customer_id"}, time.Hour,
		map[string]any{"to": "= lookup.x.email"})
	watch := changeEmailSpec(EventSpec{Type: stream.TypeChangeEmail, Email: "= old.email", NewEmail: "= new.email"})
	e := NewEvaluator(mustCompile(t, Defaults{}, order, watch), db.Pool)
	email := func() any {
		t.Helper()
		items, err := e.Evaluate(context.Background(), orderInsert(stream.Row{"customer_id": int64(2)}), nil)
		require.NoError(t, err)
		return items[0].Event.Fields["to"]
	}
	require.Equal(t, "bob@example.com", email())
	db.Exec(t, "UPDATE customers SET email = 'bob@new.example' WHERE id = 2")
	require.Equal(t, "bob@example.com", email(), "cached: the stream has not shown the change yet")
	_, err := e.Evaluate(context.Background(), &stream.Change{Op: stream.OpUpdate, Table: "public.customers",
		Key: []string{"id"}, CommitTime: commitTime,
		Old: stream.Row{"id": int64(2), "email": "bob@example.com"}, New: stream.Row{"id": int64(2), "email": "bob@new.example"}}, nil)
	require.NoError(t, err)
	require.Equal(t, "bob@new.example", email(), "the change to customers invalidated the cached row")
}

func TestMentions(t *testing.T) {
	require.True(t, mentions("select email from customers where id = $1", "public.customers"))
	require.True(t, mentions("SELECT c.email FROM public.Customers c", "public.customers"))
	require.False(t, mentions("select email from customers_archive", "public.customers"))
	require.False(t, mentions("select sum(total) from orders", "public.customers"))
}
