-- The syncer's own state. {{.schema}} is the configured schema (default "cdc").

-- One row per replication slot: the highest stream position whose event, and
-- every earlier one, Bento has acknowledged (see internal/replication/doc.go).
CREATE TABLE {{.schema}}.checkpoint (
    slot_name    text PRIMARY KEY,
    commit_lsn   pg_lsn NOT NULL,
    end_lsn      pg_lsn NOT NULL,
    change_index int NOT NULL,
    event_sub    int NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Changes a rule could not turn into an event (kind 'rule') and events Bento
-- rejected as invalid (kind 'rejected'). The operator lists, replays or
-- discards them with `cdc dlq`.
CREATE TABLE {{.schema}}.dead_letters (
    id           bigserial PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL,
    rule         text NOT NULL DEFAULT '',
    table_name   text NOT NULL DEFAULT '',
    row_key      text NOT NULL DEFAULT '',
    reason       text NOT NULL,
    status       int NOT NULL DEFAULT 0,
    response     text NOT NULL DEFAULT '',
    attempts     int NOT NULL DEFAULT 0,
    commit_lsn   pg_lsn,
    change_index int,
    event_sub    int,
    source       text NOT NULL DEFAULT '',
    event        jsonb,
    change       jsonb
);

-- Backfill progress per table: the last primary key sent, so an interrupted
-- backfill resumes where it stopped.
CREATE TABLE {{.schema}}.backfill (
    table_name  text PRIMARY KEY,
    last_key    jsonb,
    rows_done   bigint NOT NULL DEFAULT 0,
    done        boolean NOT NULL DEFAULT false,
    snapshot    text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
