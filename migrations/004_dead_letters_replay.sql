-- `cdc dlq replay` while a syncer runs marks dead letters here; the running
-- syncer sends them through its own paced queue and clears the mark
-- (issue 11, item 8).
ALTER TABLE {{.schema}}.dead_letters ADD COLUMN replay_requested_at timestamptz;

