package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/reconcile"
	"github.com/pgbento/cdc/internal/replication"
)

// Status is what `cdc status` shows.
type Status struct {
	Slot *replication.SlotState `json:"slot"`
	// LagSeconds is the server's flush lag for the active reader (0 when
	// the server reports none: the reader confirmed everything it was sent,
	// an idle caught-up syncer), raised to the running syncer's age of its
	// oldest unacknowledged change (RaiseLag), or the age of the checkpoint
	// when the slot is behind and nobody reads it.
	LagSeconds  float64                  `json:"lag_seconds"`
	Checkpoint  *Checkpoint              `json:"checkpoint"`
	DeadLetters int64                    `json:"dead_letters"`
	Backfills   []backfill.TableProgress `json:"backfills"`
	// Requests are the backfills (and reconcile runs) queued for or running
	// in the syncer (cdc backfill, cdc reconcile), oldest first.
	Requests []backfill.Request `json:"backfill_requests"`
	// Reconcile is the newest reconcile run (cdc reconcile or
	// reconcile.every); nil when none ran.
	Reconcile *reconcile.LastRun `json:"last_reconcile"`
	// Syncer is the running syncer's /readyz answer (cdc status only; nil
	// on the status page, which shows its own).
	Syncer *Readiness `json:"syncer,omitempty"`
}

// Checkpoint is the stored position.
type Checkpoint struct {
	CommitLSN string    `json:"commit_lsn"`
	EndLSN    string    `json:"end_lsn"`
	Index     int       `json:"change_index"`
	Sub       int       `json:"event_sub"`
	UpdatedAt time.Time `json:"updated_at"` // when Bento last acknowledged something
}

// ReadStatus reads the syncer's state from the database, each part through
// its owner: the slot from the catalog, the checkpoint from its store, the
// dead letters and backfill progress from theirs.
func ReadStatus(ctx context.Context, cfg *config.Config) (*Status, error) {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	st, err := ReadStatusWith(ctx, pool, cfg)
	if err != nil {
		return nil, err
	}
	r := ReadReady(ctx, cfg.HTTP.Addr)
	st.Syncer = &r
	st.RaiseLag(r.OldestUnackedSeconds)
	return st, nil
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
	if st.DeadLetters, err = bento.NewDeadLetterStore(pool, cfg.Source.Schema).Count(ctx); err != nil {
		return nil, err
	}
	if st.Backfills, err = backfill.Progress(ctx, pool, cfg.Source.Schema); err != nil {
		return nil, err
	}
	if st.Requests, err = backfill.NewRequestStore(pool, cfg.Source.Schema).Open(ctx); err != nil {
		return nil, err
	}
	if st.Reconcile, err = reconcile.Last(ctx, pool, cfg.Source.Schema); err != nil {
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

// RaiseLag makes LagSeconds, while a reader is active, at least the running
// syncer's age of the oldest change it waits to have acknowledged. The
// server measures its flush lag only when the reader confirms something
// new: while the syncer confirms nothing (a lookup holds the stream, Bento
// is down), that lag keeps its last, small value and alone would show a
// stuck syncer as caught up.
func (st *Status) RaiseLag(oldestUnackedSeconds float64) {
	if st.Slot != nil && st.Slot.Active {
		st.LagSeconds = max(st.LagSeconds, oldestUnackedSeconds)
	}
}

// lagSeconds is the active reader's flush lag as the server measures it;
// the server clears it once the reader confirmed all it was sent, so an
// idle, caught-up syncer has 0 even though the WAL end has moved a few
// bytes past its last confirmation (the checkpoint's age would grow for
// ever there). Only a slot nobody reads falls back to the checkpoint's age.
func lagSeconds(ctx context.Context, pool *pgxpool.Pool, slot string, st Status) float64 {
	if st.Slot == nil {
		return 0
	}
	if st.Slot.Active {
		if secs := replication.FlushLagSeconds(ctx, pool, slot); secs != nil {
			return *secs
		}
		return 0
	}
	if st.Slot.LagBytes > 0 && st.Checkpoint != nil {
		return time.Since(st.Checkpoint.UpdatedAt).Seconds()
	}
	return 0
}
