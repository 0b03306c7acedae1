package replication

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
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
		load:  `SELECT commit_lsn::text, end_lsn::text, change_index, event_sub FROM ` + table + ` WHERE slot_name = $1`,
		upsert: `INSERT INTO ` + table + ` (slot_name, commit_lsn, end_lsn, change_index, event_sub, epoch)
			VALUES ($1, $2::pg_lsn, $3::pg_lsn, $4, $5, $6)
			ON CONFLICT (slot_name) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn, end_lsn = EXCLUDED.end_lsn,
				change_index = EXCLUDED.change_index, event_sub = EXCLUDED.event_sub, updated_at = now()
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

// Load returns the stored position, or the zero Position when none is stored.
func (s *CheckpointStore) Load(ctx context.Context) (stream.Position, error) {
	var commit, end string
	var p stream.Position
	err := s.pool.QueryRow(ctx, s.load, s.slot).Scan(&commit, &end, &p.Index, &p.Sub)
	if errors.Is(err, pgx.ErrNoRows) {
		return stream.Position{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("load checkpoint: %w", err)
	}
	if p.CommitLSN, err = stream.ParseLSN(commit); err != nil {
		return p, fmt.Errorf("load checkpoint: %w", err)
	}
	if p.EndLSN, err = stream.ParseLSN(end); err != nil {
		return p, fmt.Errorf("load checkpoint: %w", err)
	}
	return p, nil
}

// Save stores p as the slot's position. The store only moves forward, and
// only under this store's epoch: once another instance claimed the
// checkpoint, Save returns ErrFenced and stores nothing.
func (s *CheckpointStore) Save(ctx context.Context, p stream.Position) error {
	epoch := s.epoch.Load()
	tag, err := s.pool.Exec(ctx, s.upsert, s.slot, p.CommitLSN.String(), p.EndLSN.String(), p.Index, p.Sub, epoch)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		// Either an older position (nothing to do) or a newer epoch.
		var current int64
		if err := s.pool.QueryRow(ctx, `SELECT epoch FROM `+s.table+` WHERE slot_name = $1`, s.slot).Scan(&current); err != nil {
			return fmt.Errorf("save checkpoint: %w", err)
		}
		if current != epoch {
			return fmt.Errorf("save checkpoint (epoch %d, stored %d): %w", epoch, current, ErrFenced)
		}
	}
	return nil
}
