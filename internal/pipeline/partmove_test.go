package pipeline_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const movingOrdersSchema = `
CREATE SCHEMA sales;
CREATE TABLE sales.orders (order_no int, placed_on date, email text NOT NULL, status text NOT NULL,
	PRIMARY KEY (order_no, placed_on)) PARTITION BY RANGE (placed_on);
CREATE TABLE sales.orders_2026_01 PARTITION OF sales.orders FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE sales.orders_2026_11 PARTITION OF sales.orders FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
ALTER TABLE sales.orders REPLICA IDENTITY FULL;
ALTER TABLE sales.orders_2026_01 REPLICA IDENTITY FULL;
ALTER TABLE sales.orders_2026_11 REPLICA IDENTITY FULL;`

const movingOrdersRules = `
rules:
  - name: order_placed
    table: sales.orders
    on: [insert]
    event:
      type: order_placed
      email: "= new.email"
  - name: order_refunded
    table: sales.orders
    on: [update]
    when: old.status != "refunded" && new.status == "refunded"
    event:
      type: order_refunded
      email: "= new.email"
  - name: order_removed
    table: sales.orders
    on: [delete]
    event:
      type: order_removed
      email: "= old.email"
`

// TestPartitionMoveFiresUpdateRules: an UPDATE that moves an order to
// another partition reaches the rules as one update, so a transition rule
// on [update] fires, and neither the insert rule fires again nor the
// delete rule fires.
func TestPartitionMoveFiresUpdateRules(t *testing.T) {
	e := newEnvWith(t, movingOrdersSchema, movingOrdersRules, "")
	e.Start(t)
	e.DB.Exec(t, `INSERT INTO sales.orders VALUES (11, '2026-01-05', 'ann@example.com', 'paid')`)
	e.waitEvent(t, "order_placed", "ann@example.com")

	e.DB.Exec(t, `UPDATE sales.orders SET status = 'refunded', placed_on = '2026-11-28' WHERE order_no = 11`)
	e.waitEvent(t, "order_refunded", "ann@example.com")
	// Delivery is in order: once a later order's event is in, whatever the
	// move made is in too.
	e.DB.Exec(t, `INSERT INTO sales.orders VALUES (12, '2026-11-29', 'bob@example.com', 'paid')`)
	e.waitEvent(t, "order_placed", "bob@example.com")

	counts := map[string]int{}
	for _, ev := range e.Fake.Received() {
		counts[ev.Type+" "+ev.Email]++
	}
	require.Equal(t, map[string]int{
		"order_placed ann@example.com": 1, "order_refunded ann@example.com": 1, "order_placed bob@example.com": 1,
	}, counts)
}
