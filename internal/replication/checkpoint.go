package replication

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/stream"
)

// CheckpointStore persists the acknowledged position of one slot in
// <schema>.checkpoint (created by package migrations), fenced by the
// leader's epoch (doc.go, "Fencing").
type CheckpointStore struct {
	pool   *pgxpool.Pool
	table  string
	slot   string
	load   string
	upsert string
	claim  string
	epoch  atomic.Int64 // the epoch this store saves under; 0 until Claim
}

// ErrFenced means another leader claimed the checkpoint since this store's
// Claim: the save matched no row, and this instance must stop delivering.
var ErrFenced = errors.New("another instance took over the checkpoint (its epoch moved on)")

// NewCheckpointStore does no I/O.
func NewCheckpointStore(pool *pgxpool.Pool, schema, slot string) *CheckpointStore {
	table := pgx.Identifier{schema, "checkpoint"}.Sanitize()
	return &CheckpointStore{
		pool:  pool,
		table: table,
		slot:  slot,
		load:  `SELECT commit_lsn::text, end_lsn::text, change_index, event_sub, updated_at FROM ` + table + ` WHERE slot_name = $1`,
		// slot_max_flush covers every flush LSN a saved position allows
		// (slotidentity.go); the epoch fences a replaced leader (doc.go).
		upsert: `INSERT INTO ` + table + ` (slot_name, commit_lsn, end_lsn, change_index, event_sub, slot_max_flush, epoch)
			VALUES ($1, $2::pg_lsn, $3::pg_lsn, $4, $5, $3::pg_lsn, $6)
			ON CONFLICT (slot_name) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn, end_lsn = EXCLUDED.end_lsn,
				change_index = EXCLUDED.change_index, event_sub = EXCLUDED.event_sub, updated_at = now(),
				slot_max_flush = GREATEST(` + table + `.slot_max_flush, EXCLUDED.end_lsn)
			WHERE ` + table + `.epoch = EXCLUDED.epoch
				AND (` + table + `.commit_lsn, ` + table + `.change_index, ` + table + `.event_sub, ` + table + `.end_lsn)
				<= (EXCLUDED.commit_lsn, EXCLUDED.change_index, EXCLUDED.event_sub, EXCLUDED.end_lsn)`,
		claim: `INSERT INTO ` + table + ` AS c (slot_name, commit_lsn, end_lsn, change_index, event_sub, epoch)
			VALUES ($1, '0/0', '0/0', 0, 0, 1)
			ON CONFLICT (slot_name) DO UPDATE SET epoch = c.epoch + 1, updated_at = now()
			RETURNING epoch`,
	}
}

// Claim makes this store's instance the checkpoint's owner: it increments
// the slot's epoch and saves under the new one from then on. Call it before
// Load, so every save of the previous owner either happened before the
// Load (and is seen) or fails with ErrFenced.
func (s *CheckpointStore) Claim(ctx context.Context) (int64, error) {
	var epoch int64
	if err := s.pool.QueryRow(ctx, s.claim, s.slot).Scan(&epoch); err != nil {
		return 0, fmt.Errorf("claim checkpoint: %w", err)
	}
	s.epoch.Store(epoch)
	return epoch, nil
}

// Stored is the checkpoint row: the position and when it was last saved
// (that is, when Bento last acknowledged something).
type Stored struct {
	Position  stream.Position
	UpdatedAt time.Time
}

// Load returns the stored position, or the zero Position when none is stored.
func (s *CheckpointStore) Load(ctx context.Context) (stream.Position, error) {
	st, _, err := s.read(ctx)
	if err != nil {
		return stream.Position{}, fmt.Errorf("load checkpoint: %w", err)
	}
	return st.Position, nil
}

// Read returns the stored row for `cdc status`; ok is false when none is
// stored yet.
func (s *CheckpointStore) Read(ctx context.Context) (st Stored, ok bool, err error) {
	if st, ok, err = s.read(ctx); err != nil {
		return st, false, fmt.Errorf("read checkpoint (has the syncer run? cdc setup creates its schema): %w", err)
	}
	return st, ok, nil
}

func (s *CheckpointStore) read(ctx context.Context) (Stored, bool, error) {
	var commit, end string
	var st Stored
	p := &st.Position
	err := s.pool.QueryRow(ctx, s.load, s.slot).Scan(&commit, &end, &p.Index, &p.Sub, &st.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Stored{}, false, nil
	}
	if err != nil {
		return Stored{}, false, err
	}
	if p.CommitLSN, err = stream.ParseLSN(commit); err != nil {
		return Stored{}, false, err
	}
	if p.EndLSN, err = stream.ParseLSN(end); err != nil {
		return Stored{}, false, err
	}
	return st, true, nil
}

// Save stores p as the slot's position. The store only moves forward, and
// only under this store's epoch: once another instance claimed the
// checkpoint, Save returns ErrFenced and stores nothing.
func (s *CheckpointStore) Save(ctx context.Context, p stream.Position) error {
	if err := s.save(ctx, s.pool, p); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// AlsoFunc is work done inside the transaction that saves the checkpoint,
// so that it is durable exactly when the position is (the delivery ledger).
type AlsoFunc func(ctx context.Context, tx pgx.Tx) error

// SaveWith is Save that first runs also in the same transaction; nil also
// is Save. Either both are stored or neither (a fenced save stores neither).
func (s *CheckpointStore) SaveWith(ctx context.Context, p stream.Position, also AlsoFunc) error {
	if also == nil {
		return s.Save(ctx, p)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := also(ctx, tx); err != nil {
			return err
		}
		return s.save(ctx, tx, p)
	})
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// save runs the fenced upsert on db. When it changed no row, the stored
// position is newer (nothing to do) or another leader's epoch holds the row
// (ErrFenced).
func (s *CheckpointStore) save(ctx context.Context, db execer, p stream.Position) error {
	epoch := s.epoch.Load()
	tag, err := db.Exec(ctx, s.upsert, s.slot, p.CommitLSN.String(), p.EndLSN.String(), p.Index, p.Sub, epoch)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	var current int64
	if err := db.QueryRow(ctx, `SELECT epoch FROM `+s.table+` WHERE slot_name = $1`, s.slot).Scan(&current); err != nil {
		return err
	}
	if current != epoch {
		return fmt.Errorf("epoch %d, stored %d: %w", epoch, current, ErrFenced)
	}
	return nil
}
