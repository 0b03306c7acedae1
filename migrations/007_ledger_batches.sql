-- The delivery ledger, one row per written batch instead of one per event
-- (issue 13: the ledger must cost under 10% of throughput at `ledger: all`,
-- and one indexed heap row per event cost half of it). A batch is what one
-- acknowledgement or Recorder write records: one request Bento accepted.
-- Its events are a compact JSON array (short keys, empty fields left out,
-- strings escaped as to_json escapes them), written by
-- internal/ledger/encode.go. `cdc log --email/--key` finds the batches that
-- hold an address or key by searching this text for the value's to_json
-- form before parsing any JSON; there are no arrays of emails and keys and
-- no GIN index: either cost more per request than the lookups they would
-- speed up are worth (docs/decisions.md).
CREATE TABLE {{.schema}}.ledger_batches (
    id          bigserial PRIMARY KEY,
    accepted_at timestamptz NOT NULL,   -- when Bento answered 2xx
    origin      text NOT NULL,          -- stream, backfill, reconcile or replay
    request_id  text NOT NULL,          -- the request that carried the events
    events      text NOT NULL           -- JSON array, see the view below for the keys
);
CREATE INDEX ledger_batches_accepted_at ON {{.schema}}.ledger_batches USING brin (accepted_at);

-- lz4 compresses the events faster than pglz (and than no compression at
-- all, which writes more TOAST). A server built without lz4, or older than
-- Postgres 14, keeps the default.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE {{.schema}}.ledger_batches ALTER COLUMN events SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value OR undefined_object THEN
    NULL;
END $$;

-- The rows of the old table, one batch per request (and acceptance time and
-- origin), events in their old order. json_strip_nulls writes each object
-- compactly ("key":value), as the encoder does, which lookups rely on.
INSERT INTO {{.schema}}.ledger_batches (accepted_at, origin, request_id, events)
SELECT accepted_at, origin, request_id,
       json_agg(json_strip_nulls(json_build_object(
           'd', event_at, 'ru', rule, 'ty', event_type, 'em', email,
           'tb', nullif(table_name, ''), 'rk', nullif(row_key, ''), 'uk', unique_key,
           'am', amount, 'cu', currency, 'ad', adjusts,
           'l', commit_lsn, 'ci', change_index, 'es', event_sub)) ORDER BY id)::text
FROM {{.schema}}.ledger
GROUP BY request_id, accepted_at, origin
ORDER BY min(id);

DROP TABLE {{.schema}}.ledger;

-- The ledger as it always read: one row per event, the same columns (id is
-- the batch's; seq orders the events within it). Filtering on accepted_at,
-- origin or request_id skips whole batches; on anything else it parses
-- every batch in range: pre-filter on ledger_batches.events' text, as
-- internal/ledger/query.go does.
CREATE VIEW {{.schema}}.ledger AS
SELECT b.id, b.accepted_at, e.d AS event_at, b.origin, b.request_id,
       coalesce(e.ru, '') AS rule, coalesce(e.ty, '') AS event_type, coalesce(e.em, '') AS email,
       coalesce(e.tb, '') AS table_name, coalesce(e.rk, '') AS row_key, e.uk AS unique_key,
       e.am AS amount, e.cu AS currency, e.ad AS adjusts,
       e.l AS commit_lsn, e.ci AS change_index, e.es AS event_sub, e.seq
FROM {{.schema}}.ledger_batches b,
     ROWS FROM (json_to_recordset(b.events::json) AS (d timestamptz, ru text, ty text, em text, tb text, rk text,
         uk text, am bigint, cu text, ad text, l pg_lsn, ci int, es int))
     WITH ORDINALITY AS e(d, ru, ty, em, tb, rk, uk, am, cu, ad, l, ci, es, seq);
