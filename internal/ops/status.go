package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/reconcile"
	"github.com/pgbento/cdc/internal/replication"
)

// Status is what `cdc status` shows.
type Status struct {
	Slot *replication.SlotState `json:"slot"`
	// LagSeconds is the server's flush lag for the active reader, or the age
	// of the checkpoint when the slot is behind and nobody reads it.
	LagSeconds  float64     `json:"lag_seconds"`
	Checkpoint  *Checkpoint `json:"checkpoint"`
	DeadLetters int64       `json:"dead_letters"`
	Backfills   []Backfill  `json:"backfills"`
	// Requests are the backfills queued for or running in the syncer
	// (cdc backfill, a resync), oldest first.
	Requests []backfill.Request `json:"backfill_requests"`
	// Reconcile is the newest reconcile run (cdc reconcile or
	// reconcile.every); nil when none ran.
	Reconcile *reconcile.LastRun `json:"last_reconcile"`
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
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return ReadStatusWith(ctx, pool, cfg)
}

// ReadStatusWith is ReadStatus on an open pool (the status page's).
func ReadStatusWith(ctx context.Context, pool *pgxpool.Pool, cfg *config.Config) (*Status, error) {
	var st Status
	var err error
	if st.Slot, err = replication.ReadSlot(ctx, pool, cfg.Source.Slot); err != nil {
		return nil, err
	}
	if st.Checkpoint, err = readCheckpoint(ctx, pool, cfg); err != nil {
		return nil, err
	}
	schema := cfg.Source.Schema
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.dead_letters`).Scan(&st.DeadLetters); err != nil {
		return nil, fmt.Errorf("count dead letters: %w", err)
	}
	if st.Backfills, err = readBackfills(ctx, pool, schema); err != nil {
		return nil, err
	}
	if st.Requests, err = backfill.NewRequestStore(pool, schema).Open(ctx); err != nil {
		return nil, err
	}
	if st.Reconcile, err = reconcile.Last(ctx, pool, schema); err != nil {
		return nil, err
	}
	st.LagSeconds = lagSeconds(ctx, pool, cfg.Source.Slot, st)
	return &st, nil
}

// readCheckpoint reads the stored position through the checkpoint store.
func readCheckpoint(ctx context.Context, pool *pgxpool.Pool, cfg *config.Config) (*Checkpoint, error) {
	stored, ok, err := replication.NewCheckpointStore(pool, cfg.Source.Schema, cfg.Source.Slot).Read(ctx)
	if err != nil || !ok {
		return nil, err
	}
	p := stored.Position
	return &Checkpoint{CommitLSN: p.CommitLSN.String(), EndLSN: p.EndLSN.String(), Index: p.Index, Sub: p.Sub,
		UpdatedAt: stored.UpdatedAt}, nil
}

func readBackfills(ctx context.Context, pool *pgxpool.Pool, schema string) ([]Backfill, error) {
	rows, err := pool.Query(ctx, `SELECT table_name, rows_done, done, updated_at FROM `+schema+`.backfill ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("read backfills: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Backfill, error) {
		var b Backfill
		err := r.Scan(&b.Table, &b.RowsDone, &b.Done, &b.UpdatedAt)
		return b, err
	})
}

func lagSeconds(ctx context.Context, pool *pgxpool.Pool, slot string, st Status) float64 {
	if secs := replication.FlushLagSeconds(ctx, pool, slot); secs != nil {
		return *secs
	}
	if st.Slot != nil && st.Slot.LagBytes > 0 && st.Checkpoint != nil {
		return time.Since(st.Checkpoint.UpdatedAt).Seconds()
	}
	return 0
}
