package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sent is what Bento has for one purchase key, according to the ledger.
type sent struct {
	email       string
	amount      int64 // the first accepted amount plus every correction
	currency    string
	rule        string
	table       string
	rowKey      string
	corrections int
	seen        bool // the database still yields this key (set by compare)
}

// sentSQL reads, per purchase key, the first accepted $purchase (what Bento
// counts) and the corrections that adjust it, each correction key once.
const sentSQL = `
WITH base AS (
    SELECT DISTINCT ON (unique_key) unique_key, email, amount, coalesce(currency, '') AS currency, rule, table_name, row_key
    FROM %[1]s
    WHERE event_type = '$purchase' AND unique_key IS NOT NULL AND amount IS NOT NULL AND adjusts IS NULL
      AND coalesce(event_at, accepted_at) >= $1 AND table_name = ANY($2)
    ORDER BY unique_key, accepted_at, id, seq
), adj AS (
    SELECT adjusts, sum(amount) AS amount, count(*) AS n
    FROM (SELECT DISTINCT ON (unique_key) adjusts, amount FROM %[1]s
          WHERE adjusts IS NOT NULL AND amount IS NOT NULL ORDER BY unique_key, id, seq) c
    GROUP BY adjusts
)
SELECT b.unique_key, b.email, b.amount + coalesce(adj.amount, 0), b.currency, b.rule, b.table_name, b.row_key,
       coalesce(adj.n, 0)
FROM base b LEFT JOIN adj ON adj.adjusts = b.unique_key`

// loadSent reads the ledger's view of every purchase key in scope.
func loadSent(ctx context.Context, pool *pgxpool.Pool, schema string, since time.Time, tables []string) (map[string]*sent, error) {
	rows, err := pool.Query(ctx, fmt.Sprintf(sentSQL, pgx.Identifier{schema, "ledger"}.Sanitize()), since, tables)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	out := map[string]*sent{}
	for rows.Next() {
		var key string
		s := &sent{}
		if err := rows.Scan(&key, &s.email, &s.amount, &s.currency, &s.rule, &s.table, &s.rowKey, &s.corrections); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		// 0.1 sent a char(n) column's padding with its keys and currencies
		// ("ORD1  "); rows now decode without it (pgvalue), so a padded
		// key in the ledger is the same purchase as the trimmed one, never
		// one to send again. Should both forms be in the ledger, the padded
		// one stays apart (reported unknown) rather than hide a purchase.
		trimmed := strings.TrimRight(key, " ")
		if _, both := out[trimmed]; !both {
			key = trimmed
		}
		s.currency = strings.TrimRight(s.currency, " ")
		out[key] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return out, nil
}
