package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// Origins: what sent the events of a ledger row.
const (
	OriginStream    = "stream"    // the replication stream; the position is the WAL's
	OriginBackfill  = "backfill"  // a backfill; no WAL position
	OriginReconcile = "reconcile" // a reconcile repair; no WAL position
	OriginReplay    = "replay"    // a dead-letter replay (cdc dlq replay); no WAL position
)

// Execer is a pool, connection or transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Writer inserts ledger rows into one schema's ledger.
type Writer struct {
	insert string
}

// NewWriter does no I/O; schema is the syncer's (already validated).
func NewWriter(schema string) *Writer {
	t := pgx.Identifier{schema, "ledger"}.Sanitize()
	return &Writer{insert: `INSERT INTO ` + t + ` (accepted_at, event_at, origin, request_id, rule, event_type, email,
			table_name, row_key, unique_key, amount, currency, adjusts, commit_lsn, change_index, event_sub)
		SELECT a, e, o, r, ru, ty, em, tb, rk, uk, am, cu, ad, lsn::pg_lsn, ci, es
		FROM unnest($1::timestamptz[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::int8[], $12::text[], $13::text[], $14::text[], $15::int4[], $16::int4[])
			AS u(a, e, o, r, ru, ty, em, tb, rk, uk, am, cu, ad, lsn, ci, es)`}
}

// Record is one row to write: an accepted event, where it came from and,
// for a reconcile correction, the purchase key it adjusts.
type Record struct {
	stream.Delivered
	Origin  string
	Adjusts string
}

// Write inserts recs in one statement.
func (w *Writer) Write(ctx context.Context, q Execer, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if _, err := q.Exec(ctx, w.insert, columns(recs)...); err != nil {
		return fmt.Errorf("write ledger: %w", err)
	}
	return nil
}

// InTx returns the work that writes ds (from the stream) inside the
// checkpoint's transaction, or nil when there is nothing to write.
func (w *Writer) InTx(ds []stream.Delivered) func(context.Context, pgx.Tx) error {
	if len(ds) == 0 {
		return nil
	}
	recs := make([]Record, len(ds))
	for i, d := range ds {
		recs[i] = Record{Delivered: d, Origin: OriginStream}
	}
	return func(ctx context.Context, tx pgx.Tx) error { return w.Write(ctx, tx, recs) }
}

// columns turns records into the sixteen arrays of the insert. Text is
// made safe first (pgtext.Safe): a ledger row must never be refused for its
// content, or the checkpoint transaction it rides in never commits.
func columns(recs []Record) []any {
	n := len(recs)
	var (
		acc                                = make([]time.Time, n)
		evAt                               = make([]*time.Time, n)
		origin, req, rule, typ, email, tbl = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		rowKey                             = make([]string, n)
		uk, cur, adj, lsn                  = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		amount                             = make([]*int64, n)
		idx, sub                           = make([]*int32, n), make([]*int32, n)
	)
	for i := range recs {
		r := &recs[i]
		acc[i], origin[i], req[i], rule[i], typ[i], email[i] = r.Accepted, pgtext.Safe(r.Origin), pgtext.Safe(r.Request), pgtext.Safe(r.Rule), pgtext.Safe(r.Type), pgtext.Safe(r.Email)
		tbl[i], rowKey[i] = pgtext.Safe(r.Table), pgtext.Safe(r.Key)
		if !r.Date.IsZero() {
			evAt[i] = &r.Date
		}
		uk[i], cur[i], adj[i] = nonEmpty(r.Value.UniqueKey), nonEmpty(r.Value.Currency), nonEmpty(r.Adjusts)
		if r.Value.HasAmount {
			amount[i] = &r.Value.Amount
		}
		if r.Origin == OriginStream {
			l, ix, sb := r.Pos.CommitLSN.String(), int32(r.Pos.Index), int32(r.Pos.Sub)
			lsn[i], idx[i], sub[i] = &l, &ix, &sb
		}
	}
	return []any{acc, evAt, origin, req, rule, typ, email, tbl, rowKey, uk, amount, cur, adj, lsn, idx, sub}
}

// nonEmpty is s as a nullable text column takes it (nil: NULL).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	s = pgtext.Safe(s)
	return &s
}
