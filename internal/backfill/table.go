package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgbento/cdc/internal/replication"
)

// ErrNoPrimaryKey is returned for a table without a primary key: keyset
// pagination, resuming and the change's Key all need one.
var ErrNoPrimaryKey = errors.New("table has no primary key")

// table is what the backfill needs to know about one source table.
type table struct {
	name   string   // schema-qualified, as the stream names it: "public.orders"
	quoted string   // "public"."orders"
	cols   []column // in attnum order, as pgoutput sends them
	key    []string // primary key columns, in key order
	keyIdx []int    // index in cols of each key column
}

type column struct {
	name string
	oid  uint32 // pg_attribute.atttypid, a domain's base type: the type the stream decodes
}

// querier is the part of a pool, connection or transaction we use.
type querier = replication.Querier

// columnsSQL lists the columns pgoutput sends: not dropped, not generated.
const columnsSQL = `
SELECT a.attname, a.atttypid::int8,
       coalesce((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY k(att, n) WHERE k.att = a.attnum), 0)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum`

// describeTable loads the columns and primary key of name ("orders" means
// "public.orders").
func describeTable(ctx context.Context, q querier, name string) (*table, error) {
	schema, rel, err := replication.SplitTable(name)
	if err != nil {
		return nil, err
	}
	t := &table{name: schema + "." + rel, quoted: pgx.Identifier{schema, rel}.Sanitize()}
	rows, err := q.Query(ctx, columnsSQL, schema, rel)
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", t.name, err)
	}
	keyPos := map[int]int{} // position in the key (1-based) -> index in cols
	for rows.Next() {
		var c column
		var oid int64
		var pos int
		if err := rows.Scan(&c.name, &oid, &pos); err != nil {
			return nil, fmt.Errorf("describe table %s: %w", t.name, err)
		}
		c.oid = uint32(oid)
		if pos > 0 {
			keyPos[pos] = len(t.cols)
		}
		t.cols = append(t.cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe table %s: %w", t.name, err)
	}
	if err := t.resolveDomains(ctx, q); err != nil {
		return nil, err
	}
	return t, t.setKey(keyPos)
}

// resolveDomains gives each domain column its base type, as the stream's
// decoder does with a Relation message, so a backfilled row decodes like
// a streamed one (pg_attribute names the domain, which pgvalue does not
// know).
func (t *table) resolveDomains(ctx context.Context, q querier) error {
	oids := make([]uint32, len(t.cols))
	for i, c := range t.cols {
		oids[i] = c.oid
	}
	base, err := replication.BaseTypes(ctx, q, oids)
	if err != nil {
		return fmt.Errorf("describe table %s: %w", t.name, err)
	}
	for i := range t.cols {
		t.cols[i].oid = base[i]
	}
	return nil
}

func (t *table) setKey(keyPos map[int]int) error {
	if len(t.cols) == 0 {
		return fmt.Errorf("describe table %s: no such table, or not visible to this user", t.name)
	}
	if len(keyPos) == 0 {
		return fmt.Errorf("backfill %s: %w (keyset pagination and resuming need one)", t.name, ErrNoPrimaryKey)
	}
	for p := 1; p <= len(keyPos); p++ {
		i, ok := keyPos[p]
		if !ok {
			return fmt.Errorf("backfill %s: primary key includes an expression or dropped column", t.name)
		}
		t.keyIdx = append(t.keyIdx, i)
		t.key = append(t.key, t.cols[i].name)
	}
	return nil
}

// selectSQL is the keyset query of one chunk. With after, the key columns'
// previous values are $1..$n (sent as text; the server types them from the
// columns). where is the operator's filter, inserted verbatim.
func (t *table) selectSQL(where string, after bool, limit int) string {
	var conds []string
	if after {
		conds = append(conds, "("+t.keyList()+") > ("+placeholders(len(t.key))+")")
	}
	return t.query(conds, where, limit)
}

// byKeysSQL selects the rows with n given keys ($1.. in key-column order,
// one tuple per key), still under the operator's filter.
func (t *table) byKeysSQL(where string, n int) string {
	tuples := make([]string, n)
	for i := range tuples {
		p := make([]string, len(t.key))
		for j := range p {
			p[j] = fmt.Sprintf("$%d", i*len(t.key)+j+1)
		}
		tuples[i] = "(" + strings.Join(p, ", ") + ")"
	}
	return t.query([]string{"(" + t.keyList() + ") IN (" + strings.Join(tuples, ", ") + ")"}, where, n)
}

// query selects every column under conds and where, in key order.
func (t *table) query(conds []string, where string, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{c.name}.Sanitize())
	}
	b.WriteString(" FROM " + t.quoted)
	if strings.TrimSpace(where) != "" {
		conds = append(conds, "("+where+"\n)") // the newline ends a trailing -- comment
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	fmt.Fprintf(&b, " ORDER BY %s LIMIT %d", t.keyList(), limit)
	return b.String()
}

func (t *table) keyList() string {
	q := make([]string, len(t.key))
	for i, k := range t.key {
		q[i] = pgx.Identifier{k}.Sanitize()
	}
	return strings.Join(q, ", ")
}

func placeholders(n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("$%d", i+1)
	}
	return strings.Join(p, ", ")
}
