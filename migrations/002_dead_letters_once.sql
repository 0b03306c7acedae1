-- A dead letter is written once per failure: a crash between writing it and
-- saving the checkpoint re-evaluates the same row at the same position, and
-- must not produce a second dead letter (a replay would then send twice).
-- The key is hashed: a row key can be longer than an index entry may be.
CREATE UNIQUE INDEX dead_letters_once ON {{.schema}}.dead_letters
    (kind, rule, table_name, md5(row_key), commit_lsn, change_index, event_sub);
