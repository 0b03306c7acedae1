package replication

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

func TestReaderTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
		CREATE TYPE mood AS ENUM ('happy', 'sad');
		CREATE TABLE public.typed (
			id int8 PRIMARY KEY, s int2, i int4, n numeric, big numeric, t text, b bool,
			tz timestamptz, ts timestamp, d date, u uuid, j json, jb jsonb, m mood, ia int[], ta text[])`, "public.typed")
	h.start()
	h.db.Exec(t, `INSERT INTO typed VALUES (1, -2, 3, 19.99, 123456789012345678901234567890.123456789, 'héllo', true,
		'2026-11-27 10:15:00.5+02', '2026-11-27 10:15:00', '2026-11-27', '6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b',
		'{"a": 1.10}', '{"b": [1, "x"]}', 'sad', '{1,NULL,3}', '{"a b",c}')`)
	h.db.Exec(t, `INSERT INTO typed (id) VALUES (2)`)
	changes, _ := h.tx()
	require.Len(t, changes, 1)
	require.Equal(t, stream.Row{
		"id": int64(1), "s": int64(-2), "i": int64(3), "n": stream.Numeric("19.99"),
		"big": stream.Numeric("123456789012345678901234567890.123456789"), "t": "héllo", "b": true,
		"tz": time.Date(2026, 11, 27, 8, 15, 0, 500000000, time.UTC), "ts": time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC),
		"d": "2026-11-27", "u": "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b",
		"j": map[string]any{"a": json.Number("1.10")}, "jb": map[string]any{"b": []any{json.Number("1"), "x"}},
		"m": "sad", "ia": []any{int64(1), nil, int64(3)}, "ta": []any{"a b", "c"},
	}, changes[0].New)
	changes, _ = h.tx()
	for k, v := range changes[0].New {
		if k != "id" {
			require.Nil(t, v, k)
		}
	}
}

func TestReaderOperations(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
		CREATE TABLE public.a (id int PRIMARY KEY, v text);
		CREATE TABLE public.b (id int PRIMARY KEY, v text);
		ALTER TABLE public.b REPLICA IDENTITY FULL`, "public.a", "public.b")
	h.start()
	h.db.Exec(t, `BEGIN;
		INSERT INTO a VALUES (1, 'x');
		INSERT INTO b VALUES (1, 'y');
		SELECT pg_logical_emit_message(true, 'app', 'hello');
		UPDATE a SET v = 'x2' WHERE id = 1;
		UPDATE b SET v = 'y2' WHERE id = 1;
		DELETE FROM a WHERE id = 1;
		DELETE FROM b WHERE id = 1;
		COMMIT`)
	changes, commit := h.tx()
	type summary struct {
		Op       stream.Op
		Table    string
		Old, New stream.Row
		OldIsKey bool
		Index    int
	}
	var got []summary
	for _, c := range changes {
		require.Equal(t, commit.Pos.CommitLSN, c.Pos.CommitLSN)
		require.Equal(t, commit.Xid, c.Xid)
		require.Equal(t, commit.CommitTime, c.CommitTime)
		got = append(got, summary{c.Op, c.Table, c.Old, c.New, c.OldIsKey, c.Pos.Index})
	}
	require.Equal(t, []summary{
		{stream.OpInsert, "public.a", nil, stream.Row{"id": int64(1), "v": "x"}, false, 0},
		{stream.OpInsert, "public.b", nil, stream.Row{"id": int64(1), "v": "y"}, false, 1},
		{stream.OpMessage, "", nil, nil, false, 2},
		{stream.OpUpdate, "public.a", nil, stream.Row{"id": int64(1), "v": "x2"}, false, 3},
		{stream.OpUpdate, "public.b", stream.Row{"id": int64(1), "v": "y"}, stream.Row{"id": int64(1), "v": "y2"}, false, 4},
		{stream.OpDelete, "public.a", stream.Row{"id": int64(1)}, nil, true, 5},
		{stream.OpDelete, "public.b", stream.Row{"id": int64(1), "v": "y2"}, nil, false, 6},
	}, got)
	require.Equal(t, "app", changes[2].Prefix)
	require.Equal(t, []byte("hello"), changes[2].Content)
	require.Equal(t, 7, commit.Pos.Index)
	require.Greater(t, commit.Pos.EndLSN, commit.Pos.CommitLSN)
	require.Equal(t, []string{"id"}, changes[0].Key)

	h.db.Exec(t, `TRUNCATE a, b`)
	changes, commit = h.tx()
	require.Len(t, changes, 1)
	require.Equal(t, stream.OpTruncate, changes[0].Op)
	require.ElementsMatch(t, []string{"public.a", "public.b"}, changes[0].Tables)
	require.Equal(t, 1, commit.Pos.Index)
	ok, _ := h.reader.Healthy()
	require.True(t, ok)
	// The reader counts a change just after handing it over, so the count
	// may trail what the test has received by a moment.
	require.Eventually(t, func() bool {
		return h.metric("cdc_replication_changes_total", "op", "insert") == 2 &&
			h.metric("cdc_replication_changes_total", "op", "commit") == 2 &&
			h.metric("cdc_replication_changes_total", "op", "truncate") == 1
	}, 10*time.Second, 10*time.Millisecond)
}

func TestReaderUnchangedToast(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
		CREATE TABLE public.d (id int PRIMARY KEY, n int, big text);
		CREATE TABLE public.f (id int PRIMARY KEY, n int, big text);
		ALTER TABLE d ALTER big SET STORAGE EXTERNAL;
		ALTER TABLE f ALTER big SET STORAGE EXTERNAL;
		ALTER TABLE f REPLICA IDENTITY FULL`, "public.d", "public.f")
	h.start()
	for _, table := range []string{"d", "f"} {
		h.db.Exec(t, `INSERT INTO `+table+` SELECT 1, 0, string_agg(md5(random()::text), '') FROM generate_series(1, 100)`)
		ins, _ := h.tx()
		big := ins[0].New["big"].(string)
		require.Len(t, big, 3200)
		require.Equal(t, []string{"id"}, ins[0].Key, "the primary key, also under FULL identity (every column flagged)")
		h.db.Exec(t, `UPDATE `+table+` SET n = 1`)
		upd, _ := h.tx()
		if table == "d" {
			require.True(t, stream.IsUnchanged(upd[0].New["big"]), "default identity: unchanged, not NULL")
			require.Nil(t, upd[0].Old)
		} else {
			require.Equal(t, big, upd[0].New["big"], "full identity: filled from the old row")
		}
		h.db.Exec(t, `UPDATE `+table+` SET big = NULL`)
		upd, _ = h.tx()
		require.Nil(t, upd[0].New["big"])
	}
}

func TestReaderSchemaChangeMidStream(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.s (id int PRIMARY KEY, a text, b int)`, "public.s")
	h.start()
	h.db.Exec(t, `BEGIN;
		INSERT INTO s VALUES (1, 'x', 1);
		ALTER TABLE s ADD COLUMN c text DEFAULT 'new';
		INSERT INTO s VALUES (2, 'y', 2, 'z');
		ALTER TABLE s DROP COLUMN a;
		ALTER TABLE s RENAME COLUMN c TO d;
		ALTER TABLE s ALTER COLUMN b TYPE numeric;
		INSERT INTO s VALUES (3, 3.5, 'w');
		COMMIT`)
	changes, _ := h.tx()
	require.Len(t, changes, 3)
	require.Equal(t, stream.Row{"id": int64(1), "a": "x", "b": int64(1)}, changes[0].New)
	require.Equal(t, stream.Row{"id": int64(2), "a": "y", "b": int64(2), "c": "z"}, changes[1].New)
	require.Equal(t, stream.Row{"id": int64(3), "b": stream.Numeric("3.5"), "d": "w"}, changes[2].New)
}
