-- Dead letters without a stream position (a first-start backfill's, a
-- reconcile repair's): one per kind, rule and row while it waits, the newest
-- failure's content. dead_letters_once compares positions and NULLs never
-- conflict, so it cannot tell two of these apart; this partial index can,
-- so a write retried after a lost answer, or the same row failing again,
-- never stores (and replays) a second row, however the writes interleave.
-- Duplicates written before this migration go, the newest of each kept.
DELETE FROM {{.schema}}.dead_letters d
USING {{.schema}}.dead_letters newer
WHERE d.commit_lsn IS NULL AND newer.commit_lsn IS NULL
  AND d.kind = newer.kind AND d.rule = newer.rule AND d.table_name = newer.table_name
  AND md5(d.row_key) = md5(newer.row_key) AND d.id < newer.id;
CREATE UNIQUE INDEX dead_letters_once_unpositioned ON {{.schema}}.dead_letters
    (kind, rule, table_name, md5(row_key)) WHERE commit_lsn IS NULL;
