package bento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/stream"
)

// Dead letter kinds.
const (
	KindRule     = "rule"     // a rule could not turn a change into an event
	KindRejected = "rejected" // Bento rejected the event (or it could not be encoded)
)

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("dead letter not found")

// DeadLetter is one row of the dead-letter table. Pos.EndLSN is not stored.
type DeadLetter struct {
	ID        int64
	CreatedAt time.Time
	Kind      string
	Rule      string
	Table     string
	Key       string
	Reason    string
	Status    int    // Bento's HTTP status (0: none)
	Response  string // Bento's answer, at most 4 KiB
	Attempts  int    // requests that carried the event
	Pos       stream.Position
	Event     json.RawMessage // the wire event (rejected) or the partial event (rule)
	Change    json.RawMessage // the source change (rule)
	Source    string          // webhook source
}

// ListOptions filters List. Zero values mean no filter.
type ListOptions struct {
	IDs     []int64
	Kind    string
	AfterID int64
	Limit   int
}

// DeadLetterStore keeps dead letters in <schema>.dead_letters.
type DeadLetterStore struct {
	pool  *pgxpool.Pool
	table string
	// insert and insertUnpositioned store a dead letter with and without
	// a stream position (put).
	insert, insertUnpositioned string
}

// NewDeadLetterStore uses the table in schema (created by the migrations).
// No I/O.
func NewDeadLetterStore(pool *pgxpool.Pool, schema string) *DeadLetterStore {
	s := &DeadLetterStore{pool: pool, table: pgx.Identifier{schema, "dead_letters"}.Sanitize()}
	values := `INSERT INTO ` + s.table + ` (kind, rule, table_name, row_key, reason, status, response, attempts,
		commit_lsn, change_index, event_sub, source, event, change)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::pg_lsn, $10, $11, $12, $13::jsonb, $14::jsonb)`
	s.insert = values + `
		ON CONFLICT (kind, rule, table_name, md5(row_key), commit_lsn, change_index, event_sub) DO NOTHING`
	// Without a stream position (a first-start backfill's, a reconcile
	// repair's): one row per kind, rule and row while it waits (the partial
	// unique index of migration 8), holding the newest failure. A retried
	// write whose first answer was lost, or the same row failing again in a
	// later backfill, replaces the content instead of adding a row that a
	// replay would send a second time. A replayed or discarded dead letter
	// is deleted, so a later failure is a new row.
	s.insertUnpositioned = values + `
		ON CONFLICT (kind, rule, table_name, md5(row_key)) WHERE commit_lsn IS NULL DO UPDATE SET
			reason = EXCLUDED.reason, status = EXCLUDED.status, response = EXCLUDED.response,
			attempts = EXCLUDED.attempts, source = EXCLUDED.source, event = EXCLUDED.event, change = EXCLUDED.change`
	return s
}

const dlColumns = `id, created_at, kind, rule, table_name, row_key, reason, status, response, attempts,
	commit_lsn::text, change_index, event_sub, source, event::text, change::text`

// Put stores d durably (its ID and CreatedAt are assigned by the table).
// Storing the same failure again (same kind, rule, row and position, as
// after a crash before the checkpoint was saved) is a no-op; for a dead
// letter without a position, see insertUnpositioned.
// Content never makes it fail (dlencode.go): JSON the server refuses is
// stored again in a form it takes.
func (s *DeadLetterStore) Put(ctx context.Context, d DeadLetter) error {
	err := s.put(ctx, d, false)
	if refusedContent(err) {
		err = s.put(ctx, d, true)
	}
	if err != nil {
		return fmt.Errorf("insert dead letter: %w", err)
	}
	return nil
}

func (s *DeadLetterStore) put(ctx context.Context, d DeadLetter, wrap bool) error {
	q := s.insert
	if d.Pos.CommitLSN == 0 {
		q = s.insertUnpositioned
	}
	_, err := s.pool.Exec(ctx, q, storedText(d.Kind), storedText(d.Rule), storedText(d.Table), storedText(d.Key),
		storedText(d.Reason), d.Status, storedText(d.Response), d.Attempts, lsnArg(d.Pos.CommitLSN), d.Pos.Index,
		d.Pos.Sub, storedText(d.Source), storedJSON(d.Event, wrap), storedJSON(d.Change, wrap))
	return err
}

// List returns dead letters in stream order (position, then id).
func (s *DeadLetterStore) List(ctx context.Context, o ListOptions) ([]DeadLetter, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if len(o.IDs) > 0 {
		arg("id = ANY($%d)", o.IDs)
	}
	if o.Kind != "" {
		arg("kind = $%d", o.Kind)
	}
	if o.AfterID > 0 {
		arg("id > $%d", o.AfterID)
	}
	q := `SELECT ` + dlColumns + ` FROM ` + s.table
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY commit_lsn NULLS LAST, change_index, event_sub, id`
	if o.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", o.Limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// Get returns one dead letter or ErrNotFound.
func (s *DeadLetterStore) Get(ctx context.Context, id int64) (DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dlColumns+` FROM `+s.table+` WHERE id = $1`, id)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("get dead letter %d: %w", id, err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDeadLetter)
	if errors.Is(err, pgx.ErrNoRows) {
		return DeadLetter{}, fmt.Errorf("get dead letter %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("get dead letter %d: %w", id, err)
	}
	return d, nil
}

// Delete removes the given dead letters (unknown ids are ignored).
func (s *DeadLetterStore) Delete(ctx context.Context, ids ...int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.table+` WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("delete dead letters: %w", err)
	}
	return nil
}

// DeleteAll removes every dead letter and returns how many there were.
func (s *DeadLetterStore) DeleteAll(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.table)
	if err != nil {
		return 0, fmt.Errorf("delete dead letters: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Count returns the number of dead letters.
func (s *DeadLetterStore) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count dead letters: %w", err)
	}
	return n, nil
}

// RecordAttempt notes a failed replay: one more attempt and Bento's answer.
func (s *DeadLetterStore) RecordAttempt(ctx context.Context, id int64, status int, reason, response string) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET attempts = attempts + 1, status = $2, reason = $3,
		response = $4 WHERE id = $1`, id, status, storedText(reason), storedText(response))
	if err != nil {
		return fmt.Errorf("update dead letter %d: %w", id, err)
	}
	return nil
}

func scanDeadLetter(row pgx.CollectableRow) (DeadLetter, error) {
	var d DeadLetter
	var lsn, event, change *string
	var index, sub *int
	err := row.Scan(&d.ID, &d.CreatedAt, &d.Kind, &d.Rule, &d.Table, &d.Key, &d.Reason, &d.Status,
		&d.Response, &d.Attempts, &lsn, &index, &sub, &d.Source, &event, &change)
	if err != nil {
		return d, err
	}
	if lsn != nil {
		if d.Pos.CommitLSN, err = stream.ParseLSN(*lsn); err != nil {
			return d, err
		}
	}
	if index != nil {
		d.Pos.Index = *index
	}
	if sub != nil {
		d.Pos.Sub = *sub
	}
	if event != nil {
		d.Event = loadedJSON(*event)
	}
	if change != nil {
		d.Change = loadedJSON(*change)
	}
	return d, nil
}

// lsnArg is NULL for an unknown (zero) position.
func lsnArg(l stream.LSN) any {
	if l == 0 {
		return nil
	}
	return l.String()
}
