package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgbento/cdc/internal/config"
)

// SlotState is the server's view of the replication slot.
type SlotState struct {
	Plugin         string `json:"plugin"`
	Active         bool   `json:"active"`
	ConfirmedFlush string `json:"confirmed_flush_lsn"`
	CurrentWAL     string `json:"current_wal_lsn"`
	LagBytes       int64  `json:"lag_bytes"`
	WALStatus      string `json:"wal_status"`
}

// rowQuerier is what slotState needs: a *pgx.Conn or a *pgxpool.Pool.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// slotState reads the slot; nil when it does not exist.
func slotState(ctx context.Context, conn rowQuerier, slot string) (*SlotState, error) {
	var st SlotState
	var flush *string
	var walStatus *string
	err := conn.QueryRow(ctx, `
		SELECT plugin, active, confirmed_flush_lsn::text, pg_current_wal_lsn()::text,
		       COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint, wal_status
		FROM pg_replication_slots WHERE slot_name = $1`, slot).
		Scan(&st.Plugin, &st.Active, &flush, &st.CurrentWAL, &st.LagBytes, &walStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read slot: %w", err)
	}
	if flush != nil {
		st.ConfirmedFlush = *flush
	}
	if walStatus != nil {
		st.WALStatus = *walStatus
	}
	return &st, nil
}

// Status is what `cdc status` shows.
type Status struct {
	Slot *SlotState `json:"slot"`
	// LagSeconds is the server's flush lag for the active reader, or the age
	// of the checkpoint when the slot is behind and nobody reads it.
	LagSeconds  float64     `json:"lag_seconds"`
	Checkpoint  *Checkpoint `json:"checkpoint"`
	DeadLetters int64       `json:"dead_letters"`
	Backfills   []Backfill  `json:"backfills"`
}

// Checkpoint is the stored position.
type Checkpoint struct {
	CommitLSN string    `json:"commit_lsn"`
	EndLSN    string    `json:"end_lsn"`
	Index     int       `json:"change_index"`
	Sub       int       `json:"event_sub"`
	UpdatedAt time.Time `json:"updated_at"` // when Bento last acknowledged something
}

// Backfill is one table's backfill progress.
type Backfill struct {
	Table     string    `json:"table"`
	RowsDone  int64     `json:"rows_done"`
	Done      bool      `json:"done"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReadStatus reads the syncer's state from the database.
func ReadStatus(ctx context.Context, cfg *config.Config) (*Status, error) {
	conn, err := pgx.Connect(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var st Status
	if st.Slot, err = slotState(ctx, conn, cfg.Source.Slot); err != nil {
		return nil, err
	}
	schema := cfg.Source.Schema
	var cp Checkpoint
	err = conn.QueryRow(ctx, `SELECT commit_lsn::text, end_lsn::text, change_index, event_sub, updated_at
		FROM `+schema+`.checkpoint WHERE slot_name = $1`, cfg.Source.Slot).
		Scan(&cp.CommitLSN, &cp.EndLSN, &cp.Index, &cp.Sub, &cp.UpdatedAt)
	switch {
	case err == nil:
		st.Checkpoint = &cp
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("read checkpoint (has the syncer run? cdc setup creates its schema): %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.dead_letters`).Scan(&st.DeadLetters); err != nil {
		return nil, fmt.Errorf("count dead letters: %w", err)
	}
	if st.Backfills, err = readBackfills(ctx, conn, schema); err != nil {
		return nil, err
	}
	st.LagSeconds = lagSeconds(ctx, conn, cfg.Source.Slot, st)
	return &st, nil
}

func readBackfills(ctx context.Context, conn *pgx.Conn, schema string) ([]Backfill, error) {
	rows, err := conn.Query(ctx, `SELECT table_name, rows_done, done, updated_at FROM `+schema+`.backfill ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("read backfills: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Backfill, error) {
		var b Backfill
		err := r.Scan(&b.Table, &b.RowsDone, &b.Done, &b.UpdatedAt)
		return b, err
	})
}

func lagSeconds(ctx context.Context, conn *pgx.Conn, slot string, st Status) float64 {
	var secs *float64
	_ = conn.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM r.flush_lag)::float8 FROM pg_stat_replication r
		JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1`, slot).Scan(&secs)
	if secs != nil {
		return *secs
	}
	if st.Slot != nil && st.Slot.LagBytes > 0 && st.Checkpoint != nil {
		return time.Since(st.Checkpoint.UpdatedAt).Seconds()
	}
	return 0
}
