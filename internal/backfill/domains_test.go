package backfill

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

const domainsDDL = `
CREATE DOMAIN points AS bigint CHECK (VALUE >= 0);
CREATE DOMAIN bonus AS points;
CREATE DOMAIN amount AS numeric(12, 2);
CREATE DOMAIN stamp AS timestamptz;
CREATE DOMAIN day AS date;
CREATE DOMAIN doc AS jsonb;
CREATE DOMAIN label AS text;
CREATE DOMAIN scores AS int[];
CREATE TABLE loyalty (id int PRIMARY KEY, pts points, extra bonus, total amount, seen stamp,
    since day, prefs doc, tier label, best scores, history points[], cur char(4), curs char(4)[]);`

// domainsRules sends, for every streamed or backfilled row, the same row
// as a lookup reads it.
const domainsRules = `
rules:
  - name: looked
    table: loyalty
    on: [insert, snapshot]
    lookups:
      row:
        sql: select pts, extra, total, seen, since, prefs, tier, best, history, cur, curs from loyalty where id = $1
        args: [new.id]
    event:
      type: t
      email: "x@y.z"
      details:
        row: "= lookup.row"
`

// TestDomainsDecodeAlikeInStreamBackfillAndLookup: a column of a domain
// type, which pgoutput and pg_attribute name by the domain and a lookup's
// RowDescription by its base type, has the same Go value whether the row
// is streamed, backfilled or looked up, and that value is its base type's
// (a domain over a domain too). An array of a domain is no domain: it is
// its text in all three. A char(n) value comes without its padding.
func TestDomainsDecodeAlikeInStreamBackfillAndLookup(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	db.Exec(t, domainsDDL)
	db.Exec(t, `ALTER DATABASE `+db.Name+` SET timezone = 'America/New_York'`)
	db.Pool.Reset() // new sessions pick up the database setting
	ctx := context.Background()
	set := compileRules(t, domainsRules)
	cfg := replicationConfig(t, db, set)
	snap, err := replication.CreateSlotWithSnapshot(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, snap.Close(ctx))
	db.Exec(t, `INSERT INTO loyalty VALUES (1, 5, 7, 19.90, '2026-01-02T03:04:05Z', '2026-01-02',
		'{"n": 1.10}', 'gold', '{1,2}', '{3,4}', 'EU', '{" USD",EU}')`)
	want := stream.Row{
		"pts": int64(5), "extra": int64(7), "total": stream.Numeric("19.90"),
		"seen":  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"since": "2026-01-02", "prefs": map[string]any{"n": json.Number("1.10")}, "tier": "gold",
		"best": []any{int64(1), int64(2)}, "history": "{3,4}",
		"cur": "EU", "curs": []any{" USD", "EU"}, // char(n)'s padding dropped, as Postgres drops it
	}

	streamed := readChanges(t, db, cfg, 1)[0].New
	require.Equal(t, int64(1), streamed["id"])
	delete(streamed, "id")
	require.Equal(t, want, streamed, "streamed")

	tbl, err := describeTable(ctx, db.Pool, "loyalty")
	require.NoError(t, err)
	src, err := openSource(ctx, db.Pool, tbl, "", "", 10)
	require.NoError(t, err)
	defer src.close(ctx)
	c, err := src.next(ctx, nil)
	require.NoError(t, err)
	require.Len(t, c.rows, 1)
	backfilled := c.rows[0]
	delete(backfilled, "id")
	require.Equal(t, want, backfilled, "backfilled")

	items, err := rules.NewEvaluator(set, db.Pool).Evaluate(ctx, &stream.Change{Op: stream.OpInsert,
		Table: "public.loyalty", Key: []string{"id"}, New: stream.Row{"id": int64(1)}, CommitTime: time.Now()}, nil)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.NotNil(t, items[0].Event, "the rule failed: %+v", items[0].Failure)
	require.Equal(t, map[string]any(want), items[0].Event.Details["row"], "looked up")
}
