package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// Writer inserts ledger batches into one schema's ledger_batches. It is
// safe for concurrent use.
type Writer struct {
	table   string
	one     string    // the insert of one batch, the usual case
	scratch sync.Pool // *scratch, reused between writes
}

// NewWriter does no I/O; schema is the syncer's (already validated).
func NewWriter(schema string) *Writer {
	w := &Writer{table: pgx.Identifier{schema, "ledger_batches"}.Sanitize()}
	w.one = w.insert(1)
	w.scratch.New = func() any { return new(scratch) }
	return w
}

// Record is one event to write: an accepted event, where it came from and,
// for a reconcile correction, the purchase key it adjusts.
type Record struct {
	stream.Delivered
	Origin  string
	Adjusts string
}

// Write inserts recs in one statement: one batch row per run of records
// that share their request, acceptance time and origin (one run for an
// acknowledgement).
func (w *Writer) Write(ctx context.Context, q Execer, recs []Record) error {
	return w.write(ctx, q, recordEvents(recs))
}

func (w *Writer) write(ctx context.Context, q Execer, ev events) error {
	if ev.n == 0 {
		return nil
	}
	s := w.scratch.Get().(*scratch)
	defer w.scratch.Put(s)
	n := s.fill(ev)
	sql := w.one
	if n > 1 {
		sql = w.insert(n)
	}
	if _, err := q.Exec(ctx, sql, s.args...); err != nil {
		return fmt.Errorf("write ledger: %w", err)
	}
	return nil
}

// insert is the statement for n batches.
func (w *Writer) insert(n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO ` + w.table + ` (accepted_at, origin, request_id, events) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(")
		for k := 1; k <= batchArgs; k++ {
			if k > 1 {
				sb.WriteString(", ")
			}
			sb.WriteString("$" + strconv.Itoa(i*batchArgs+k))
		}
		sb.WriteString(")")
	}
	return sb.String()
}

// InTx returns the work that writes ds (from the stream) inside the
// checkpoint's transaction, or nil when there is nothing to write.
func (w *Writer) InTx(ds []stream.Delivered) func(context.Context, pgx.Tx) error {
	if len(ds) == 0 {
		return nil
	}
	return func(ctx context.Context, tx pgx.Tx) error { return w.write(ctx, tx, streamEvents(ds)) }
}
