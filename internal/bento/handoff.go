package bento

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The replay hand-off (issue 11, item 8): while a syncer runs, `cdc dlq
// replay` does not send anything itself, which would add its requests to
// the syncer's and exceed requests_per_minute. It marks the dead letters
// (replay_requested_at); the syncer's sender finds them within
// replayPollInterval and replays them through its own limiter, then clears
// the mark of those that stay. The command waits for the marks to clear.

// replayPollInterval is how often a running sender looks for marked dead
// letters.
const replayPollInterval = 5 * time.Second

// RequestReplay marks dead letters (all when ids is empty) for the running
// syncer to replay and returns the ids it marked.
func (s *DeadLetterStore) RequestReplay(ctx context.Context, ids ...int64) ([]int64, error) {
	q := `UPDATE ` + s.table + ` SET replay_requested_at = now() WHERE coalesce(cardinality($1::bigint[]), 0) = 0 OR id = ANY($1)
		RETURNING id`
	rows, err := s.pool.Query(ctx, q, ids)
	if err != nil {
		return nil, fmt.Errorf("request replay: %w", err)
	}
	marked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("request replay: %w", err)
	}
	return marked, nil
}

// requestedReplays lists the marked dead letters, in id order.
func (s *DeadLetterStore) requestedReplays(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM `+s.table+` WHERE replay_requested_at IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list requested replays: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list requested replays: %w", err)
	}
	return ids, nil
}

// clearReplayRequests removes the marks of dead letters that were handled.
func (s *DeadLetterStore) clearReplayRequests(ctx context.Context, ids []int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE `+s.table+` SET replay_requested_at = NULL WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("clear replay requests: %w", err)
	}
	return nil
}

// HandOff marks dead letters (all when ids is empty) for the running syncer
// and waits, checking every poll, until it has handled every one: gone
// (replayed) or unmarked (kept, with the reason recorded). ctx ending stops
// the wait, not the replay: the syncer still handles the marks.
func HandOff(ctx context.Context, store *DeadLetterStore, poll time.Duration, ids ...int64) (ReplayResult, error) {
	marked, err := store.RequestReplay(ctx, ids...)
	if err != nil {
		return ReplayResult{}, err
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		res, waiting, err := store.handOffState(ctx, marked)
		if err != nil || waiting == 0 {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("wait for the syncer to replay %d dead letters: %w", waiting, ctx.Err())
		case <-t.C:
		}
	}
}

// handOffState sorts marked dead letters into replayed (gone), kept
// (unmarked) and still waiting.
func (s *DeadLetterStore) handOffState(ctx context.Context, marked []int64) (ReplayResult, int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, reason, replay_requested_at IS NOT NULL FROM `+s.table+`
		WHERE id = ANY($1)`, marked)
	if err != nil {
		return ReplayResult{}, 0, fmt.Errorf("check requested replays: %w", err)
	}
	defer rows.Close()
	left := map[int64]bool{}
	var res ReplayResult
	waiting := 0
	for rows.Next() {
		var f ReplayFailure
		var pending bool
		if err := rows.Scan(&f.ID, &f.Reason, &pending); err != nil {
			return ReplayResult{}, 0, fmt.Errorf("check requested replays: %w", err)
		}
		left[f.ID] = true
		if pending {
			waiting++
		} else {
			res.Failed = append(res.Failed, f)
		}
	}
	if err := rows.Err(); err != nil {
		return ReplayResult{}, 0, fmt.Errorf("check requested replays: %w", err)
	}
	for _, id := range marked {
		if !left[id] {
			res.Replayed = append(res.Replayed, id)
		}
	}
	return res, waiting, nil
}
