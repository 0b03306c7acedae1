-- Fencing (issue 10.13): each leader that takes over increments the epoch of
-- its slot's checkpoint row before it loads the checkpoint, and saves only
-- while the row still carries its epoch. A replaced leader's save then
-- matches no row, and it stops before its next request. 0: never claimed.
ALTER TABLE {{.schema}}.checkpoint ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
