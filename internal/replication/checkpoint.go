package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/stream"
)

// CheckpointStore persists the acknowledged position of one slot in
// <schema>.checkpoint (created by package migrations).
type CheckpointStore struct {
	pool   *pgxpool.Pool
	table  string
	slot   string
	load   string
	upsert string
}

// NewCheckpointStore does no I/O.
func NewCheckpointStore(pool *pgxpool.Pool, schema, slot string) *CheckpointStore {
	table := pgx.Identifier{schema, "checkpoint"}.Sanitize()
	return &CheckpointStore{
		pool:  pool,
		table: table,
		slot:  slot,
		load:  `SELECT commit_lsn::text, end_lsn::text, change_index, event_sub, updated_at FROM ` + table + ` WHERE slot_name = $1`,
		// slot_max_flush covers every flush LSN a saved position allows
		// (slotidentity.go).
		upsert: `INSERT INTO ` + table + ` (slot_name, commit_lsn, end_lsn, change_index, event_sub, slot_max_flush)
			VALUES ($1, $2::pg_lsn, $3::pg_lsn, $4, $5, $3::pg_lsn)
			ON CONFLICT (slot_name) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn, end_lsn = EXCLUDED.end_lsn,
				change_index = EXCLUDED.change_index, event_sub = EXCLUDED.event_sub, updated_at = now(),
				slot_max_flush = GREATEST(` + table + `.slot_max_flush, EXCLUDED.end_lsn)
			WHERE (` + table + `.commit_lsn, ` + table + `.change_index, ` + table + `.event_sub, ` + table + `.end_lsn)
				<= (EXCLUDED.commit_lsn, EXCLUDED.change_index, EXCLUDED.event_sub, EXCLUDED.end_lsn)`,
	}
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

// Save stores p as the slot's position. The store only moves forward: an
// older position (from a process that lost its leadership while a newer
// one took over) never overwrites a newer one.
func (s *CheckpointStore) Save(ctx context.Context, p stream.Position) error {
	_, err := s.pool.Exec(ctx, s.upsert, s.slot, p.CommitLSN.String(), p.EndLSN.String(), p.Index, p.Sub)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// AlsoFunc is work done inside the transaction that saves the checkpoint,
// so that it is durable exactly when the position is (the delivery ledger).
type AlsoFunc func(ctx context.Context, tx pgx.Tx) error

// SaveWith is Save that first runs also in the same transaction; nil also
// is Save. Either both are stored or neither.
func (s *CheckpointStore) SaveWith(ctx context.Context, p stream.Position, also AlsoFunc) error {
	if also == nil {
		return s.Save(ctx, p)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := also(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.upsert, s.slot, p.CommitLSN.String(), p.EndLSN.String(), p.Index, p.Sub)
		return err
	})
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}
