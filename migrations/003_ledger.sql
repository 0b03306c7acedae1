-- The delivery ledger: one row per event Bento accepted, written in the same
-- transaction as the checkpoint that covers it (stream), or right after the
-- request (backfill, reconcile). `cdc log` reads it, `cdc reconcile`
-- compares the database's purchases with it. Pruned after ledger_retention.
CREATE TABLE {{.schema}}.ledger (
    id           bigserial PRIMARY KEY,
    accepted_at  timestamptz NOT NULL,         -- when Bento answered 2xx
    event_at     timestamptz,                  -- the event's date, when it had one
    origin       text NOT NULL,                -- stream, backfill or reconcile
    request_id   text NOT NULL,                -- groups the events of one request
    rule         text NOT NULL,
    event_type   text NOT NULL,
    email        text NOT NULL,
    table_name   text NOT NULL DEFAULT '',
    row_key      text NOT NULL DEFAULT '',
    unique_key   text,                         -- details.unique.key
    amount       bigint,                       -- details.value.amount, cents
    currency     text,                         -- details.value.currency
    adjusts      text,                         -- a reconcile correction: the purchase key it adjusts
    commit_lsn   pg_lsn,
    change_index int,
    event_sub    int
);
CREATE INDEX ledger_accepted_at ON {{.schema}}.ledger (accepted_at);
CREATE INDEX ledger_email ON {{.schema}}.ledger (lower(email), accepted_at);
CREATE INDEX ledger_unique_key ON {{.schema}}.ledger (unique_key) WHERE unique_key IS NOT NULL;

-- One row per reconcile run: what it found and what it repaired, for the
-- status page and `cdc status`.
CREATE TABLE {{.schema}}.reconcile_runs (
    id              bigserial PRIMARY KEY,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    dry_run         boolean NOT NULL,
    customers       int NOT NULL,
    missing         int NOT NULL,
    differing       int NOT NULL,
    unknown_keys    int NOT NULL,
    drift_cents     bigint NOT NULL,
    repaired        int NOT NULL
);
