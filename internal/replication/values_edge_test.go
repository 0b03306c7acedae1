package replication

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/stream"
)

// deepJSON is legal in json and jsonb but deeper than encoding/json's
// 10,000 levels.
var deepJSON = strings.Repeat("[", 10001) + strings.Repeat("]", 10001)

// TestReaderValuesPostgresAccepts: a real server's values at the edges of
// their types never stop the reader (issue 10.6). JSON deeper than Go's
// decoder becomes a marker in its own column; the row's other values and the
// next row decode as usual.
func TestReaderValuesPostgresAccepts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `CREATE TABLE public.edge (id int PRIMARY KEY, j json, jb jsonb, d date, tz timestamptz,
		b bytea, f float8, n numeric, ja jsonb[])`, "public.edge")
	h.db.Exec(t, `ALTER DATABASE `+h.db.Name+` SET bytea_output = 'escape'`)
	h.start()
	h.db.Exec(t, `INSERT INTO edge VALUES (1, $1::text::json, $1::text::jsonb, '5874897-12-31', '4713-01-01 00:00:00+00 BC', '\x00ff5c', 'NaN',
		'-Infinity', ARRAY[$1::text::jsonb])`, deepJSON)
	h.db.Exec(t, `INSERT INTO edge VALUES (2, '{"a":"\u0000"}', '1e100', 'infinity', '294276-12-31 23:59:59+00', '', 'Infinity', 'NaN', NULL)`)
	deep, _ := h.tx()
	require.Len(t, deep, 1)
	row := deep[0].New
	for _, col := range []string{"j", "jb", "ja"} {
		u, ok := stream.AsUnrepresentable(row[col])
		require.True(t, ok, "%s: %T", col, row[col])
		require.Contains(t, u.Reason, "exceeded max depth")
	}
	require.Equal(t, "5874897-12-31", row["d"])
	require.Equal(t, time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC), row["tz"])
	require.Equal(t, []byte{0, 0xff, '\\'}, row["b"])
	require.True(t, math.IsNaN(row["f"].(float64)))
	require.Equal(t, stream.Numeric("-Infinity"), row["n"])

	next, _ := h.tx()
	require.Len(t, next, 1)
	require.Equal(t, stream.Row{"id": int64(2), "j": map[string]any{"a": "\x00"},
		"jb": json.Number("1" + strings.Repeat("0", 100)), "d": "infinity",
		"tz": time.Date(294276, 12, 31, 23, 59, 59, 0, time.UTC), "b": []byte{}, "f": math.Inf(1),
		"n": stream.Numeric("NaN"), "ja": nil}, next[0].New)
}
