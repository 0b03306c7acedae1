-- A dead letter is written once per failure: a crash between writing it and
-- saving the checkpoint re-evaluates the same row at the same position, and
-- must not produce a second dead letter (a replay would then send twice).
CREATE UNIQUE INDEX dead_letters_once ON {{.schema}}.dead_letters
    (kind, rule, table_name, row_key, commit_lsn, change_index, event_sub);
