package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/stream"
)

// Slot identity (doc.go, "Slot identity"): the checkpoint row records the
// consistent point of the slot the syncer created and the highest flush LSN
// the syncer ever reported to it. A slot of the same name that is not that
// one starts beyond every LSN we reported, so CheckSlot tells it apart.

// SlotLostError says the checkpoint's slot is gone: the changes since the
// checkpoint were never read. Why is "missing", "invalidated" or
// "re-created".
type SlotLostError struct {
	Slot       string
	Why        string
	Detail     string
	Checkpoint stream.Position
}

func (e *SlotLostError) Error() string {
	return fmt.Sprintf("replication slot %q was lost (%s: %s): changes made after the checkpoint %s were never read. "+
		"To close the gap, re-create the slot and re-send every table's current state from its snapshot: "+
		"set source.on_slot_lost: resync and start again, or run cdc setup --resync; then cdc reconcile to prove the purchases. "+
		"Transitions inside the gap that left no trace in current rows cannot be recovered (README, \"A lost slot\")",
		e.Slot, e.Why, e.Detail, e.Checkpoint)
}

// IsSlotLost reports whether err is a *SlotLostError.
func IsSlotLost(err error) bool {
	var e *SlotLostError
	return errors.As(err, &e)
}

// slotIdentity is what the checkpoint row says about its slot.
type slotIdentity struct {
	found           bool
	position        stream.Position
	consistentPoint *string
	maxFlush        *string
}

func (s *CheckpointStore) readIdentity(ctx context.Context) (slotIdentity, error) {
	var id slotIdentity
	var commit, end string
	err := s.pool.QueryRow(ctx, `SELECT commit_lsn::text, end_lsn::text, change_index, event_sub,
		slot_consistent_point::text, slot_max_flush::text FROM `+s.table+` WHERE slot_name = $1`, s.slot).
		Scan(&commit, &end, &id.position.Index, &id.position.Sub, &id.consistentPoint, &id.maxFlush)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, nil
	}
	if err != nil {
		return id, fmt.Errorf("read slot identity: %w", err)
	}
	id.found = true
	if id.position.CommitLSN, err = stream.ParseLSN(commit); err == nil {
		id.position.EndLSN, err = stream.ParseLSN(end)
	}
	return id, err
}

// Execer runs a statement: a pool, a connection or a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// RecordSlot stores the identity of a slot the syncer just created: its
// consistent point, which is also the highest flush it has confirmed. The
// position is kept (a new slot starts beyond it, so nothing is skipped).
func (s *CheckpointStore) RecordSlot(ctx context.Context, consistentPoint stream.LSN) error {
	return RecordSlot(ctx, s.pool, s.table, s.slot, consistentPoint)
}

// RecordSlot is CheckpointStore.RecordSlot on db, for `cdc setup`'s
// connection; table is "<schema>.checkpoint" (CheckpointTable).
func RecordSlot(ctx context.Context, db Execer, table, slot string, consistentPoint stream.LSN) error {
	_, err := db.Exec(ctx, `INSERT INTO `+table+` (slot_name, commit_lsn, end_lsn, change_index, event_sub,
			slot_consistent_point, slot_max_flush) VALUES ($1, '0/0', '0/0', 0, 0, $2::pg_lsn, $2::pg_lsn)
		ON CONFLICT (slot_name) DO UPDATE SET slot_consistent_point = $2::pg_lsn, slot_max_flush = $2::pg_lsn`,
		slot, consistentPoint.String())
	if err != nil {
		return fmt.Errorf("record slot identity: %w", err)
	}
	return nil
}

// CheckpointTable is the quoted name of the checkpoint table in schema.
func CheckpointTable(schema string) string { return pgx.Identifier{schema, "checkpoint"}.Sanitize() }

// recordFlush raises the highest flush LSN reported to the slot to lsn
// before the reader reports it.
func (s *CheckpointStore) recordFlush(ctx context.Context, lsn stream.LSN) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO `+s.table+` (slot_name, commit_lsn, end_lsn, change_index, event_sub, slot_max_flush)
			VALUES ($1, '0/0', '0/0', 0, 0, $2::pg_lsn)
		ON CONFLICT (slot_name) DO UPDATE SET slot_max_flush = GREATEST(`+s.table+`.slot_max_flush, $2::pg_lsn)`,
		s.slot, lsn.String())
	if err != nil {
		return fmt.Errorf("record reported flush: %w", err)
	}
	return nil
}

// CheckSlot decides whether the slot is the one the checkpoint counts in.
// It returns a *SlotLostError when a checkpoint exists and the slot is
// missing, invalidated (wal_status lost: max_slot_wal_keep_size removed WAL
// it needed) or confirms a position beyond anything this syncer reported
// (re-created under the same name, or advanced by another client). A
// checkpoint without a recorded identity (made before it existed) adopts
// the slot as it is now.
func CheckSlot(ctx context.Context, pool *pgxpool.Pool, cfg Config) error {
	store := NewCheckpointStore(pool, cfg.Schema, cfg.Slot)
	id, err := store.readIdentity(ctx)
	if err != nil || !id.found {
		return err
	}
	slot, err := ReadSlot(ctx, pool, cfg.Slot)
	if err != nil {
		return err
	}
	lost := func(why, detail string) error {
		return &SlotLostError{Slot: cfg.Slot, Why: why, Detail: detail, Checkpoint: id.position}
	}
	switch {
	case slot == nil && id.position.IsZero() && id.maxFlush == nil:
		return nil
	case slot == nil:
		return lost("missing", "dropped, or not on this server after a failover")
	case slot.WALStatus == "lost":
		return lost("invalidated", "the server removed WAL it still needed (max_slot_wal_keep_size)")
	case slot.ConfirmedFlush == "":
		return nil
	}
	confirmed, err := stream.ParseLSN(slot.ConfirmedFlush)
	if err != nil {
		return fmt.Errorf("check slot: %w", err)
	}
	if id.maxFlush == nil {
		return store.recordFlush(ctx, confirmed)
	}
	maxFlush, err := stream.ParseLSN(*id.maxFlush)
	if err != nil {
		return fmt.Errorf("check slot: %w", err)
	}
	if confirmed > maxFlush {
		return lost("re-created", fmt.Sprintf("it confirms %s, beyond the %s this syncer last reported: a new slot of the same name, or another client advanced it",
			confirmed, maxFlush))
	}
	return nil
}

// reportable is the flush LSN the reader may report: flush, once it is
// recorded as reported (slotidentity); if recording fails, the highest
// recorded one. The replication goroutine calls it before every status.
func (r *Reader) reportable(ctx context.Context, flush stream.LSN) stream.LSN {
	if flush <= r.maxFlush {
		return flush
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.store.recordFlush(ctx, flush); err != nil {
		if !r.recordFailing { // once per outage, not per status update
			r.log.Warn("recording the reported flush failed; reporting the last recorded one", "error", err)
			r.recordFailing = true
		}
		return r.maxFlush
	}
	r.recordFailing = false
	r.maxFlush = flush
	return flush
}

// loadMaxFlush reads the highest recorded flush for reportable (0: none).
func (r *Reader) loadMaxFlush(ctx context.Context) stream.LSN {
	id, err := r.store.readIdentity(ctx)
	if err != nil || id.maxFlush == nil {
		return 0
	}
	lsn, _ := stream.ParseLSN(*id.maxFlush)
	return lsn
}
