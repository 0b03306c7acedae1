package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultRetention is how long the ledger keeps what it recorded when the
// config says nothing.
const DefaultRetention = 30 * 24 * time.Hour

// Pruner deletes ledger batches accepted before the retention, in the
// background (a BRIN index on accepted_at finds them).
type Pruner struct {
	db        Execer
	delete    string
	retention time.Duration
	every     time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// NewPruner does no I/O. It prunes every retention/24 (at least a minute,
// at most an hour). now nil means time.Now.
func NewPruner(db Execer, schema string, retention time.Duration, now func() time.Time, log *slog.Logger) *Pruner {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pruner{
		db:        db,
		delete:    `DELETE FROM ` + pgx.Identifier{schema, "ledger_batches"}.Sanitize() + ` WHERE accepted_at < $1`,
		retention: retention, every: min(max(retention/24, time.Minute), time.Hour),
		now: now, log: log.With("component", "ledger"),
	}
}

// Prune deletes what is older than the retention once and says how many
// batches (requests) went.
func (p *Pruner) Prune(ctx context.Context) (int64, error) {
	tag, err := p.db.Exec(ctx, p.delete, p.now().Add(-p.retention))
	if err != nil {
		return 0, fmt.Errorf("prune ledger: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Run prunes at start and then periodically until ctx ends. A failed prune
// is logged and tried again next time: the ledger only grows meanwhile.
func (p *Pruner) Run(ctx context.Context) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		n, err := p.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Warn("pruning the ledger failed; trying again later", "error", err)
		case n > 0:
			p.log.Info("ledger pruned", "batches", n, "older_than", p.retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
