package backfill

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/pgvalue"
	"github.com/pgbento/cdc/internal/stream"
)

// source reads a table's chunks on one connection. With a snapshot, one
// REPEATABLE READ transaction imports it and serves every chunk; without,
// each chunk is a short read-only transaction of its own.
type source struct {
	conn   *pgxpool.Conn
	snapTx pgx.Tx // non-nil with a snapshot
	t      *table
	where  string
	limit  int
	values pgvalue.Decoder
}

// chunk is one page of rows in key order.
type chunk struct {
	rows []stream.Row
	keys [][]string // text form of each row's key columns
	last []string   // text form of the last row's key columns
}

func openSource(ctx context.Context, pool *pgxpool.Pool, t *table, snapshot, where string, limit int) (*source, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	s := &source{conn: conn, t: t, where: where, limit: limit, values: pgvalue.New()}
	if snapshot == "" {
		return s, nil
	}
	if s.snapTx, err = s.begin(ctx, snapshot); err != nil {
		conn.Release()
		return nil, err
	}
	return s, nil
}

// begin starts a read-only transaction, imports snapshot when given, and
// pins the settings that make text values look like pgoutput's.
func (s *source) begin(ctx context.Context, snapshot string) (pgx.Tx, error) {
	opts := pgx.TxOptions{AccessMode: pgx.ReadOnly}
	if snapshot != "" {
		opts.IsoLevel = pgx.RepeatableRead
	}
	tx, err := s.conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	if snapshot != "" {
		// SET TRANSACTION SNAPSHOT takes no parameters; the name is quoted.
		_, err = tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(snapshot, "'", "''")+"'")
		if err != nil {
			rollback(ctx, tx)
			return nil, fmt.Errorf("import snapshot %s: %w", snapshot, err)
		}
	}
	sql, args := settingsSQL()
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		rollback(ctx, tx)
		return nil, fmt.Errorf("pin text settings: %w", err)
	}
	return tx, nil
}

// rollback ends a read-only transaction even if ctx ended, bounded by
// saveTimeout so a hung database cannot hold a stopping syncer.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// settingsSQL sets pgvalue.SessionSettings for the transaction
// only (set_config's is_local), in one round trip.
func settingsSQL() (string, []any) {
	var calls []string
	var args []any
	for _, kv := range pgvalue.SessionSettings() {
		calls = append(calls, fmt.Sprintf("set_config($%d, $%d, true)", len(args)+1, len(args)+2))
		args = append(args, kv[0], kv[1])
	}
	return "SELECT " + strings.Join(calls, ", "), args
}

// close ends the snapshot transaction and returns the connection.
func (s *source) close(ctx context.Context) {
	if s.snapTx != nil {
		rollback(ctx, s.snapTx)
	}
	s.conn.Release()
}

// next reads the chunk after key (nil: from the first row). An empty chunk
// means the table is done.
func (s *source) next(ctx context.Context, after []string) (chunk, error) {
	if s.snapTx != nil {
		return s.read(ctx, s.snapTx, after)
	}
	tx, err := s.begin(ctx, "")
	if err != nil {
		return chunk{}, err
	}
	defer rollback(ctx, tx) // read-only: nothing to commit
	return s.read(ctx, tx, after)
}

func (s *source) read(ctx context.Context, tx pgx.Tx, after []string) (chunk, error) {
	args := []any{pgx.QueryResultFormats{pgx.TextFormatCode}}
	for _, k := range after {
		args = append(args, k) // strings go as text; the server parses them as the key's type
	}
	return s.query(ctx, tx, s.t.selectSQL(s.where, after != nil, s.limit), args)
}

// byKeys reads the rows with the given keys again, in key order, in a
// short read-only transaction (the in-stream backfill's retry of rows
// that changed while their chunk was read); rows gone since are not there.
func (s *source) byKeys(ctx context.Context, keys [][]string) (chunk, error) {
	tx, err := s.begin(ctx, "")
	if err != nil {
		return chunk{}, err
	}
	defer rollback(ctx, tx)
	args := []any{pgx.QueryResultFormats{pgx.TextFormatCode}}
	for _, k := range keys {
		for _, v := range k {
			args = append(args, v)
		}
	}
	return s.query(ctx, tx, s.t.byKeysSQL(s.where, len(keys)), args)
}

func (s *source) query(ctx context.Context, tx pgx.Tx, sql string, args []any) (chunk, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return chunk{}, fmt.Errorf("read %s: %w", s.t.name, err)
	}
	defer rows.Close()
	var c chunk
	for rows.Next() {
		row, err := s.decode(rows.RawValues())
		if err != nil {
			return chunk{}, fmt.Errorf("read %s: %w", s.t.name, err)
		}
		c.rows = append(c.rows, row)
		c.last = s.keyText(rows.RawValues())
		c.keys = append(c.keys, c.last)
	}
	if err := rows.Err(); err != nil {
		return chunk{}, fmt.Errorf("read %s: %w", s.t.name, err)
	}
	return c, nil
}

// decode turns one text-format row into a stream.Row, typed by the
// columns' pg_attribute types exactly as the stream types them.
func (s *source) decode(raw [][]byte) (stream.Row, error) {
	if len(raw) != len(s.t.cols) {
		return nil, fmt.Errorf("got %d columns, want %d (table changed during the backfill?)", len(raw), len(s.t.cols))
	}
	row := make(stream.Row, len(raw))
	for i, c := range s.t.cols {
		if raw[i] == nil {
			row[c.name] = nil
			continue
		}
		row[c.name] = s.values.Value(c.oid, raw[i])
	}
	return row, nil
}

func (s *source) keyText(raw [][]byte) []string {
	k := make([]string, len(s.t.keyIdx))
	for i, idx := range s.t.keyIdx {
		k[i] = string(raw[idx])
	}
	return k
}
