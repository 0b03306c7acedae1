-- (issue 12; the coordinator renumbers this file to 006 at merge: tern wants
-- no gaps, so on this branch it is 004.)
--
-- Backfills the running syncer executes inside its stream (watermarks, see
-- internal/backfill/doc.go). `cdc backfill` inserts a row; the syncer that
-- holds the leader lock claims the oldest queued one, runs it, and records
-- what it did. Progress per table stays in backfill (last key, rows).
CREATE TABLE {{.schema}}.backfill_requests (
    id            bigserial PRIMARY KEY,
    table_name    text NOT NULL,
    where_sql     text NOT NULL DEFAULT '',
    restart       boolean NOT NULL DEFAULT false,
    per_minute    double precision,               -- requests a minute; NULL: half of requests_per_minute
    origin        text NOT NULL DEFAULT 'cli',    -- cli or resync
    state         text NOT NULL DEFAULT 'queued', -- queued, running, done, failed
    reason        text NOT NULL DEFAULT '',
    rows_done     bigint NOT NULL DEFAULT 0,
    rows_dropped  bigint NOT NULL DEFAULT 0,      -- changed between a chunk's watermarks: the stream carried them
    events        bigint NOT NULL DEFAULT 0,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);
-- A request is a backfill, or a reconcile repair handed to the running
-- syncer by `cdc reconcile` (kind reconcile: table_name '' means every
-- purchase table; since limits it like --since).
ALTER TABLE {{.schema}}.backfill_requests ADD COLUMN kind text NOT NULL DEFAULT 'backfill';
ALTER TABLE {{.schema}}.backfill_requests ADD COLUMN since timestamptz;
CREATE INDEX backfill_requests_open ON {{.schema}}.backfill_requests (id) WHERE state IN ('queued', 'running');

-- Which slot the checkpoint belongs to (issue 12, internal/replication
-- doc.go "Slot identity"): the slot's consistent point, recorded when the
-- syncer created it, and the highest confirmed flush LSN the syncer ever
-- reported to it, recorded before it is reported. A slot of the same name
-- created later starts beyond that, so it is never mistaken for the one the
-- checkpoint counts in. NULL: not known yet (set on the next start).
ALTER TABLE {{.schema}}.checkpoint ADD COLUMN slot_consistent_point pg_lsn;
ALTER TABLE {{.schema}}.checkpoint ADD COLUMN slot_max_flush pg_lsn;
