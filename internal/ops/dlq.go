package ops

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/ledger"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

// DeadLetters opens the dead-letter table of cfg's database.
func DeadLetters(ctx context.Context, cfg *config.Config) (*bento.DeadLetterStore, func(), error) {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	return bento.NewDeadLetterStore(pool, cfg.Source.Schema), pool.Close, nil
}

// Replay re-sends dead letters (all when ids is empty), in stream order.
// Events Bento rejected are sent again as they are. Rows a rule could not
// handle are run through the current rules again (after the operator fixed
// the rule or the row) and the failed rule's events delivered. A dead letter
// is removed only once everything it produced is delivered. Requests are
// paced by requests_per_minute; while a syncer runs, the dead letters are
// handed to it (bento.HandOff) so the two never exceed that budget together.
func Replay(ctx context.Context, cfg *config.Config, log *slog.Logger, version string, ids ...int64) (bento.ReplayResult, error) {
	return ReplayNoting(ctx, cfg, log, version, nil, ids...)
}

// HandedOffNote is what `cdc dlq replay` says when a running syncer replays
// for it: the syncer rebuilds rule dead letters with the rules it loaded at
// its start, not with the file as edited since.
const HandedOffNote = "a syncer is running: the dead letters are handed to it, and it replays them with the rules " +
	"it loaded when it started (an edit to the config since then applies only after restarting cdc run)"

// ReplayNoting is Replay calling handedOff (when not nil) before it waits
// on a running syncer that replays the dead letters.
func ReplayNoting(ctx context.Context, cfg *config.Config, log *slog.Logger, version string, handedOff func(),
	ids ...int64) (bento.ReplayResult, error) {
	pool, err := pgxpool.New(ctx, cfg.Source.DSN)
	if err != nil {
		return bento.ReplayResult{}, fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	running, err := SyncerRunning(ctx, pool, cfg.Source.Slot)
	if err != nil {
		return bento.ReplayResult{}, err
	}
	if running {
		if handedOff != nil {
			handedOff()
		}
		return bento.HandOff(ctx, bento.NewDeadLetterStore(pool, cfg.Source.Schema), time.Second, ids...)
	}
	client, err := bento.NewClient(cfg.Bento, nil, version)
	if err != nil {
		return bento.ReplayResult{}, err
	}
	eval := rules.NewEvaluator(cfg.Compiled, pool)
	rebuild := func(ctx context.Context, d bento.DeadLetter) ([]*stream.Event, error) {
		return eval.Rebuild(ctx, d.Change, d.Rule)
	}
	store := bento.NewDeadLetterStore(pool, cfg.Source.Schema)
	rec := ledger.NewRecorder(pool, cfg.Source.Schema, cfg.Ledger, ledger.OriginReplay, log)
	return bento.Replay(ctx, store, client, bento.ReplayOptions{Logger: log, Rebuild: rebuild, Accepted: rec.Accepted}, ids...)
}
