package backfill

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/stream"
)

const typesDDL = `
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE typed (
    region   text,
    n        int,
    at       timestamptz,
    i2 smallint, i8 bigint, f4 real, f8 double precision, num numeric(20, 4),
    vc varchar(10), b boolean, ts timestamp, d date, u uuid, j json, jb jsonb,
    raw bytea, ints int[], nums numeric[], m mood, gen int GENERATED ALWAYS AS (n * 2) STORED,
    PRIMARY KEY (region, n, at)
);
ALTER TABLE typed REPLICA IDENTITY FULL;`

// typedRows writes rows whose composite keys interleave, with every type
// the stream decodes and NULLs.
func typedRows() string {
	var b strings.Builder
	b.WriteString(`INSERT INTO typed (region, n, at, i2, i8, f4, f8, num, vc, b, ts, d, u, j, jb, raw, ints, nums, m) VALUES `)
	for i := range 11 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `('%s', %d, '2024-03-0%d 12:34:56.789+0%d', %d, %d, %d.5, 1e-%d, %d.0101, 'v%d', %t,
			'2024-01-02 03:04:05', '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1%d', '{"a": %d.10}', '{"b": [1, 2.50]}',
			'\x0%d', '{1,NULL,3}', '{1.10,2}', 'sad')`,
			[]string{"eu", "us", "ap"}[i%3], i%4, 1+i%5, i%3, i, int64(1)<<40+int64(i), i, i%9, i, i, i%2 == 0, i%10, i, i%10)
	}
	b.WriteString(`, ('zz', 0, 'infinity', NULL, NULL, NULL, '-Infinity', 'NaN', NULL, NULL, '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	return b.String()
}

// TestSourceReadsWhatTheStreamDecodes: the same rows, read by the backfill
// in small chunks over a composite key and decoded by the stream, are equal
// value for value and type for type, even when the database's own DateStyle
// and TimeZone differ from the stream's.
func TestSourceReadsWhatTheStreamDecodes(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	db.Exec(t, typesDDL)
	db.Exec(t, `ALTER DATABASE `+db.Name+` SET timezone = 'America/New_York'`)
	db.Exec(t, `ALTER DATABASE `+db.Name+` SET datestyle = 'SQL, DMY'`)
	db.Pool.Reset() // new sessions pick up the database settings
	ctx := context.Background()
	cfg := replicationConfig(t, db, compileRules(t, `rules: [{name: r, table: typed, on: [insert], event: {type: t, email: "x@y.z"}}]`))
	snap, err := replication.CreateSlotWithSnapshot(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, snap.Close(ctx))
	db.Exec(t, typedRows())

	tbl, err := describeTable(ctx, db.Pool, "typed")
	require.NoError(t, err)
	require.Equal(t, []string{"region", "n", "at"}, tbl.key)
	src, err := openSource(ctx, db.Pool, tbl, "", "", 3)
	require.NoError(t, err)
	defer src.close(ctx)
	var got []stream.Row
	var after []string
	for {
		c, err := src.next(ctx, after)
		require.NoError(t, err)
		if len(c.rows) == 0 {
			break
		}
		require.LessOrEqual(t, len(c.rows), 3)
		got, after = append(got, c.rows...), c.last
	}
	require.Len(t, got, 12)

	streamed := map[string]stream.Row{}
	for _, c := range readChanges(t, db, cfg, 12) {
		streamed[keyOf(c.New)] = c.New
	}
	for i, row := range got {
		require.Equal(t, streamed[keyOf(row)], row, "row %d (%s)", i, keyOf(row))
		if i > 0 {
			require.NotEqual(t, keyOf(got[i-1]), keyOf(row))
		}
	}
	require.NotContains(t, got[0], "gen", "generated columns are not in the stream")
	require.IsType(t, stream.Numeric(""), got[0]["num"])
	require.Equal(t, "ap", got[0]["region"], "key order: region first")
	require.Equal(t, "zz", got[11]["region"])
}

func keyOf(r stream.Row) string { return fmt.Sprint(r["region"], r["n"], r["at"]) }
