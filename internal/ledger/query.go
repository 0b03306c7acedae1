package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Query selects ledger rows for `cdc log`; zero fields do not filter.
type Query struct {
	Email string    // case-insensitive
	Key   string    // details.unique.key, or the source row's key (e.g. "id=12345"); also the corrections that adjust it
	Since time.Time // accepted at or after
	Limit int       // 0: DefaultLimit
}

// DefaultLimit bounds a query without a limit.
const DefaultLimit = 1000

// Page is what Find returns: the newest Limit matching rows, oldest first,
// and whether older ones matched too (the limit cut them off).
type Page struct {
	Entries []Entry
	More    bool
}

// Entry is one recorded event (one row of the view <schema>.ledger).
type Entry struct {
	ID        int64      `json:"id"` // the batch's: the events of one request share it
	Accepted  time.Time  `json:"accepted_at"`
	EventAt   *time.Time `json:"event_at,omitempty"`
	Origin    string     `json:"origin"`
	Request   string     `json:"request_id"`
	Rule      string     `json:"rule"`
	Type      string     `json:"type"`
	Email     string     `json:"email"`
	Table     string     `json:"table,omitempty"`
	RowKey    string     `json:"row_key,omitempty"`
	UniqueKey *string    `json:"unique_key,omitempty"`
	Amount    *int64     `json:"amount,omitempty"`
	Currency  *string    `json:"currency,omitempty"`
	Adjusts   *string    `json:"adjusts,omitempty"`
	Position  *string    `json:"position,omitempty"` // commit LSN#change.event, stream rows only
}

// SQL is the statement Find runs, with $1 email, $2 key, $3 since, $4
// limit (the README shows it for operators who prefer psql). It reads
// newest first so a limit keeps the newest rows (docs/decisions.md); Find
// turns them back to oldest first. The view
// parses the JSON of every batch it reads, so the sub-select first keeps
// the batches accepted since $3 (BRIN) whose stored text holds the email
// or key as the encoder writes it, which is its to_json form (encode.go):
// a search of the compressed text, not a parse. Lower-casing the whole
// text lower-cases the email in it as lower($1) does. A key also selects
// the reconcile corrections that adjust it ("ad"), so "what did we send
// for this order?" includes them.
func SQL(schema string) string {
	return `SELECT id, accepted_at, event_at, origin, request_id, rule, event_type, email, table_name, row_key,
       unique_key, amount, currency, adjusts,
       CASE WHEN commit_lsn IS NOT NULL THEN commit_lsn::text || '#' || change_index || '.' || event_sub END
FROM ` + pgx.Identifier{schema, "ledger"}.Sanitize() + `
WHERE id IN (SELECT id FROM ` + pgx.Identifier{schema, "ledger_batches"}.Sanitize() + `
             WHERE ($1 = '' OR strpos(lower(events), lower('"em":' || to_json($1::text))) > 0)
               AND ($2 = '' OR strpos(events, '"uk":' || to_json($2::text)) > 0
                            OR strpos(events, '"rk":' || to_json($2::text)) > 0
                            OR strpos(events, '"ad":' || to_json($2::text)) > 0)
               AND accepted_at >= $3)
  AND ($1 = '' OR lower(email) = lower($1))
  AND ($2 = '' OR unique_key = $2 OR row_key = $2 OR adjusts = $2)
ORDER BY accepted_at DESC, id DESC, seq DESC
LIMIT $4`
}

// Find returns the rows q selects, oldest first; past q.Limit, the newest.
func Find(ctx context.Context, db Querier, schema string, q Query) ([]Entry, error) {
	p, err := FindPage(ctx, db, schema, q)
	return p.Entries, err
}

// FindPage is Find, and says whether the limit left older rows out: it
// asks for one row more than the limit.
func FindPage(ctx context.Context, db Querier, schema string, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	out, err := find(ctx, db, schema, q.Email, q.Key, q.Since, q.Limit+1)
	if err != nil {
		return Page{}, err
	}
	p := Page{Entries: out, More: len(out) > q.Limit}
	if p.More {
		p.Entries = out[:q.Limit]
	}
	slices.Reverse(p.Entries)
	return p, nil
}

// find runs SQL: the newest limit rows, newest first.
func find(ctx context.Context, db Querier, schema, email, key string, since time.Time, limit int) ([]Entry, error) {
	rows, err := db.Query(ctx, SQL(schema), strings.TrimSpace(email), key, since, limit)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.ID, &e.Accepted, &e.EventAt, &e.Origin, &e.Request, &e.Rule, &e.Type, &e.Email, &e.Table,
			&e.RowKey, &e.UniqueKey, &e.Amount, &e.Currency, &e.Adjusts, &e.Position)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return out, nil
}

// Querier is a pool, connection or transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
