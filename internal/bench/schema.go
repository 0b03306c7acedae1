package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pgbento/cdc/internal/configtext"
)

// Names of what the benchmark creates. They are fixed so a run on an
// existing database (--dsn) finds and removes what an interrupted run left.
const (
	dataSchema  = "cdc_bench"        // the orders and customers tables
	stateSchema = "cdc_bench_state"  // the syncer's own schema (checkpoint, dead letters)
	slotPrefix  = "cdc_bench"        // every slot the benchmark creates starts so
	publication = "cdc_bench"        // for both slots
	siteUUID    = "bench-site"       // the stand-in's site
	markPrefix  = "cdc_bench_endpos" // logical message written after a backlog
)

// schemaSQL recreates the benchmark's tables. Orders carry the buyer's
// email (as a POS receipt does) so the rule needs no lookup: the benchmark
// measures the pipeline, not a query per row.
const schemaSQL = `
DROP SCHEMA IF EXISTS cdc_bench CASCADE;
DROP SCHEMA IF EXISTS cdc_bench_state CASCADE;
CREATE SCHEMA cdc_bench;
CREATE TABLE cdc_bench.customers (
    id    bigint PRIMARY KEY,
    email text NOT NULL UNIQUE
);
CREATE TABLE cdc_bench.orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES cdc_bench.customers (id),
    email       text NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    total       numeric(12, 2) NOT NULL,
    currency    text NOT NULL DEFAULT 'USD',
    created_at  timestamptz NOT NULL DEFAULT now(),
    paid_at     timestamptz,
    note        text
);
ALTER TABLE cdc_bench.orders REPLICA IDENTITY FULL;
ALTER TABLE cdc_bench.customers REPLICA IDENTITY FULL;
`

// customersSQL inserts $1 customers.
const customersSQL = `INSERT INTO cdc_bench.customers (id, email)
	SELECT g, 'customer' || g || '@example.com' FROM generate_series(1, $1::int) g`

// ordersSQL inserts paid orders $1..$2 (by sequence number g), spread over
// $3 customers, each with a note of $4 bytes (none when 0). One statement
// is one transaction of $2-$1+1 changes.
const ordersSQL = `INSERT INTO cdc_bench.orders (customer_id, email, status, total, paid_at, note)
	SELECT 1 + g % $3::int, 'customer' || (1 + g % $3::int) || '@example.com', 'paid',
	       (500 + g % 20000) / 100.0, now(), nullif(repeat('x', $4::int), '')
	FROM generate_series($1::int, $2::int) g`

// orderSQL inserts one paid order for the steady writer.
const orderSQL = `INSERT INTO cdc_bench.orders (customer_id, email, status, total, paid_at)
	VALUES ($1::bigint, 'customer' || $1::bigint || '@example.com', 'paid', 19.99, now()) RETURNING id`

// rulesYAML produces one $purchase per paid order and nothing else.
const rulesYAML = `
rules:
  - name: purchase
    table: cdc_bench.orders
    on: [insert, update]
    when: new.status == "paid" && (op == "insert" || old.status != "paid")
    event:
      type: $purchase
      email: "= new.email"
      date: "= new.paid_at"
      details:
        unique:
          key: "= string(new.id)"
        value:
          amount: "= cents(new.total)"
          currency: "= new.currency"
`

// cdcSlot and recvSlot are round i's slots for the syncer and for
// pg_recvlogical: each round drains the backlog from a slot of its own.
func cdcSlot(i int) string  { return fmt.Sprintf("%s_cdc_%d", slotPrefix, i) }
func recvSlot(i int) string { return fmt.Sprintf("%s_recv_%d", slotPrefix, i) }

// syncerConfig is what varies in the syncer's config file.
type syncerConfig struct {
	dsn, slot, bentoURL, httpAddr string
	batchSize, queueSize          int    // queueSize 0: the syncer's default
	rpm                           int    // bento.requests_per_minute; 0: unlimited
	ledger                        string // "": the syncer's default
}

// writeConfig writes the syncer's config file into dir and returns its path.
func writeConfig(dir string, c syncerConfig) (string, error) {
	src := configtext.File{
		DSN: c.dsn, Slot: c.slot, Publication: publication, Schema: stateSchema,
		SiteUUID: siteUUID, BentoURL: c.bentoURL, BatchSize: c.batchSize, QueueSize: c.queueSize,
		RequestsPerMinute: float64(c.rpm), HTTPAddr: c.httpAddr, LogLevel: "warn", LogFormat: "text", ShutdownTimeout: 10 * time.Second,
		Rules: rulesYAML, Extra: ledgerLine(c.ledger),
	}.YAML()
	path := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		return "", fmt.Errorf("write syncer config: %w", err)
	}
	return path, nil
}

// ledgerLine sets the syncer's ledger mode; "" keeps its default.
func ledgerLine(mode string) string {
	if mode == "" {
		return ""
	}
	return fmt.Sprintf("ledger: %q", mode)
}
