package ops

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// syncerRunningSQL reports whether a syncer holds the slot's leader lock
// (pipeline's lockSQL key as pg_locks shows a bigint advisory key) without
// taking it, so a syncer starting meanwhile never finds it taken.
const syncerRunningSQL = `WITH k AS (SELECT hashtext('cdc-bento:' || $1)::bigint AS key)
	SELECT EXISTS (SELECT 1 FROM pg_locks, k WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid::text::bigint = (k.key >> 32) & 4294967295 AND objid::text::bigint = k.key & 4294967295)`

// SyncerRunning reports whether a syncer streams the slot right now.
func SyncerRunning(ctx context.Context, pool *pgxpool.Pool, slot string) (bool, error) {
	var running bool
	if err := pool.QueryRow(ctx, syncerRunningSQL, slot).Scan(&running); err != nil {
		return false, fmt.Errorf("look for a running syncer: %w", err)
	}
	return running, nil
}
