package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// state is one table's saved progress in <schema>.backfill.
type state struct {
	LastKey  []string // text form of the last delivered row's key; nil: none yet
	RowsDone int64
	Done     bool
	Snapshot string // the snapshot the backfill started from ("" for none)
}

// progressStore keeps backfill progress per table.
type progressStore struct {
	pool  *pgxpool.Pool
	table string
}

func newProgressStore(pool *pgxpool.Pool, schema string) *progressStore {
	return &progressStore{pool: pool, table: pgx.Identifier{schema, "backfill"}.Sanitize()}
}

// load returns the saved state; found is false when there is none.
func (s *progressStore) load(ctx context.Context, table string) (st state, found bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT last_key, rows_done, done, snapshot FROM `+s.table+` WHERE table_name = $1`, table).
		Scan(&st.LastKey, &st.RowsDone, &st.Done, &st.Snapshot)
	if errors.Is(err, pgx.ErrNoRows) {
		return state{}, false, nil
	}
	if err != nil {
		return state{}, false, fmt.Errorf("load backfill progress of %s: %w", table, err)
	}
	return st, true, nil
}

// start records a backfill of table from its first row, replacing any
// earlier progress.
func (s *progressStore) start(ctx context.Context, table, snapshot string) error {
	return s.startOn(ctx, s.pool, table, snapshot)
}

// startOn is start on db: the store's pool, or Register's transaction.
func (s *progressStore) startOn(ctx context.Context, db execer, table, snapshot string) error {
	_, err := db.Exec(ctx, `INSERT INTO `+s.table+` (table_name, last_key, rows_done, done, snapshot)
		VALUES ($1, NULL, 0, false, $2)
		ON CONFLICT (table_name) DO UPDATE SET last_key = NULL, rows_done = 0, done = false,
			snapshot = EXCLUDED.snapshot, started_at = now(), updated_at = now()`, table, snapshot)
	if err != nil {
		return fmt.Errorf("start backfill progress of %s: %w", table, err)
	}
	return nil
}

// execer runs a statement: a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// save records that every row up to lastKey is delivered.
func (s *progressStore) save(ctx context.Context, table string, lastKey []string, rows int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET last_key = $2, rows_done = $3, updated_at = now()
		WHERE table_name = $1`, table, lastKey, rows)
	if err != nil {
		return fmt.Errorf("save backfill progress of %s: %w", table, err)
	}
	return nil
}

// finish marks table done.
func (s *progressStore) finish(ctx context.Context, table string) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET done = true, updated_at = now() WHERE table_name = $1`, table)
	if err != nil {
		return fmt.Errorf("finish backfill progress of %s: %w", table, err)
	}
	return nil
}

// resume decides where a run starts. A restart, no saved progress, or a
// new snapshot (a new slot: a new view of every row) start from the first
// row; otherwise the run continues after the saved key, or does nothing
// when the table is done.
func (s *progressStore) resume(ctx context.Context, table, snapshot string, restart bool) (state, error) {
	st, found, err := s.load(ctx, table)
	if err != nil {
		return state{}, err
	}
	if found && !restart && (snapshot == "" || snapshot == st.Snapshot) {
		return st, nil
	}
	if err := s.start(ctx, table, snapshot); err != nil {
		return state{}, err
	}
	return state{Snapshot: snapshot}, nil
}

// registered is the snapshot column of a table registered before its slot
// (and so its snapshot) exists: Unfinished lists it like any first-time
// backfill, and Run replaces it with the slot's snapshot when it starts.
const registered = "registered"

// Register records, in one transaction, that each table is to be
// backfilled for a slot about to be created: the syncer's first-time
// backfill or a resync. It comes before the slot is created and its
// identity saved, so a crash or a failure at any point after it leaves
// every such table listed by Unfinished, including tables the backfill had
// not reached yet, and a failure before it leaves nothing behind.
func Register(ctx context.Context, pool *pgxpool.Pool, schema string, tables []string) error {
	store := newProgressStore(pool, schema)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("register first-time backfill: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	for _, t := range tables {
		if err := store.startOn(ctx, tx, t, registered); err != nil {
			return fmt.Errorf("register first-time backfill: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("register first-time backfill: %w", err)
	}
	return nil
}

// Unfinished lists the tables whose first-time backfill (registered with a
// snapshot) is not done, for a syncer that restarts after it was
// interrupted: it should Run them again without the snapshot, which died
// with the process. Backfills an operator started by hand are not listed:
// the syncer must not run them a second time, or without their --where.
func Unfinished(ctx context.Context, pool *pgxpool.Pool, schema string) ([]string, error) {
	return tableList(ctx, pool, schema, `WHERE NOT done AND snapshot <> ''`)
}

// Known lists every table with backfill progress, finished or not.
func Known(ctx context.Context, pool *pgxpool.Pool, schema string) ([]string, error) {
	return tableList(ctx, pool, schema, "")
}

func tableList(ctx context.Context, pool *pgxpool.Pool, schema, where string) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT table_name FROM `+pgx.Identifier{schema, "backfill"}.Sanitize()+
		` `+where+` ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("list backfills: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list backfills: %w", err)
	}
	return tables, nil
}

// TableProgress is one table's backfill progress, as `cdc status` shows it.
type TableProgress struct {
	Table     string    `json:"table"`
	RowsDone  int64     `json:"rows_done"`
	Done      bool      `json:"done"`
	UpdatedAt time.Time `json:"updated_at"`
	// Gone: no table has this name any more (renamed or dropped since);
	// the row is history, a renamed table's progress starts anew under
	// its new name.
	Gone bool `json:"table_gone"`
}

// Progress lists every table's backfill progress, by table name.
func Progress(ctx context.Context, pool *pgxpool.Pool, schema string) ([]TableProgress, error) {
	rows, err := pool.Query(ctx, `SELECT table_name, rows_done, done, updated_at,
		to_regclass(quote_ident(split_part(table_name, '.', 1)) || '.' || quote_ident(split_part(table_name, '.', 2))) IS NULL
		FROM `+pgx.Identifier{schema, "backfill"}.Sanitize()+` ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("read backfills: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableProgress, error) {
		var p TableProgress
		err := r.Scan(&p.Table, &p.RowsDone, &p.Done, &p.UpdatedAt, &p.Gone)
		return p, err
	})
}
