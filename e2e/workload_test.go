package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// writer plays the back office: it inserts customers and orders and pays
// and ships orders, in small transactions and a few large ones. It also
// keeps, per email, the events the example rules must produce, in commit
// order (one writer, so program order is commit order).
type writer struct {
	pool *pgxpool.Pool
	rng  *rand.Rand

	customers []customer
	pending   []order      // inserted, not paid yet
	paid      []order      // paid, not shipped yet
	changes   int          // row changes committed
	progress  atomic.Int64 // changes, for other goroutines
	nextEmail int

	mu     sync.Mutex
	expect map[string][]string // email -> event labels in commit order
}

type customer struct {
	id    int64
	email string
	optIn bool
}

type order struct {
	id    int64
	owner customer
}

// step is one statement of a transaction and the events it implies.
type step struct {
	sql    string
	args   []any
	events func(id int64) (email string, labels []string)
	after  func(id int64) // bookkeeping once committed
}

func newWriter(pool *pgxpool.Pool, seed uint64) *writer {
	return &writer{pool: pool, rng: rand.New(rand.NewPCG(seed, 1)), expect: map[string][]string{}}
}

// Run writes until at least n row changes are committed or ctx ends.
func (w *writer) Run(ctx context.Context, n int) error {
	for w.changes < n && ctx.Err() == nil {
		if err := w.commit(ctx, w.next()); err != nil {
			return err
		}
	}
	return nil
}

// next picks the next transaction: mostly one or two statements, now and
// then a large one.
func (w *writer) next() []step {
	if len(w.customers) < 5 || w.rng.IntN(10) == 0 {
		return []step{w.newCustomer(w.rng.IntN(2) == 0)}
	}
	if w.rng.IntN(400) == 0 {
		return w.bulk(300)
	}
	switch r := w.rng.IntN(100); {
	case r < 35:
		return []step{w.newOrder(false)}
	case r < 65 && len(w.pending) > 0:
		return []step{w.pay()}
	case r < 90:
		return []step{w.newOrder(true), w.newOrder(false)}
	case len(w.paid) > 0:
		return []step{w.ship()}
	}
	return []step{w.newOrder(true)}
}

// bulk is one large transaction: many new orders, half of them paid, and
// every pending order paid.
func (w *writer) bulk(n int) []step {
	steps := make([]step, 0, n+len(w.pending))
	for i := 0; i < n; i++ {
		steps = append(steps, w.newOrder(i%2 == 0))
	}
	for len(w.pending) > 0 {
		steps = append(steps, w.pay())
	}
	return steps
}

func (w *writer) newCustomer(optIn bool) step {
	w.nextEmail++
	email := fmt.Sprintf("c%d@example.com", w.nextEmail)
	return step{
		sql:  `INSERT INTO customers (email, first_name, plan, marketing_opt_in) VALUES ($1, 'Test', 'free', $2) RETURNING id`,
		args: []any{email, optIn},
		events: func(int64) (string, []string) {
			if optIn {
				return email, []string{"$subscribe"}
			}
			return email, nil
		},
		after: func(id int64) { w.customers = append(w.customers, customer{id: id, email: email, optIn: optIn}) },
	}
}

func (w *writer) newOrder(paid bool) step {
	c := w.customers[w.rng.IntN(len(w.customers))]
	total := fmt.Sprintf("%d.%02d", 1+w.rng.IntN(500), w.rng.IntN(100))
	s := step{
		sql:    `INSERT INTO orders (customer_id, total) VALUES ($1, $2) RETURNING id`,
		args:   []any{c.id, total},
		events: func(int64) (string, []string) { return c.email, nil },
		after:  func(id int64) { w.pending = append(w.pending, order{id: id, owner: c}) },
	}
	if paid {
		s.sql = `INSERT INTO orders (customer_id, total, status, paid_at) VALUES ($1, $2, 'paid', now()) RETURNING id`
		s.events = purchased(c)
		s.after = func(id int64) { w.paid = append(w.paid, order{id: id, owner: c}) }
	}
	return s
}

// pay takes a pending order off the list now, so the same transaction
// cannot pick it twice.
func (w *writer) pay() step {
	i := w.rng.IntN(len(w.pending))
	o := w.pending[i]
	w.pending = append(w.pending[:i], w.pending[i+1:]...)
	return step{
		sql:    `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1 RETURNING id`,
		args:   []any{o.id},
		events: purchased(o.owner),
		after:  func(int64) { w.paid = append(w.paid, o) },
	}
}

func (w *writer) ship() step {
	i := w.rng.IntN(len(w.paid))
	o := w.paid[i]
	w.paid = append(w.paid[:i], w.paid[i+1:]...)
	return step{
		sql:  `UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = $1 RETURNING id`,
		args: []any{o.id},
		events: func(id int64) (string, []string) {
			return o.owner.email, []string{fmt.Sprintf("order_shipped:%d", id)}
		},
	}
}

// purchased is what the example rules emit when an order becomes paid:
// purchase_on_paid, then lifetime_value (rule file order).
func purchased(c customer) func(int64) (string, []string) {
	return func(id int64) (string, []string) {
		return c.email, []string{fmt.Sprintf("$purchase:%d", id), "$update_fields"}
	}
}

// commit runs steps in one transaction, as a pipelined batch so a large
// transaction is quick to write. After a server restart the pool's idle
// connections are dead; the failed attempt discards one and the next dials
// anew. Tests restart the server only between writes, so a failed attempt
// never committed.
func (w *writer) commit(ctx context.Context, steps []step) error {
	var ids []int64
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if ids, err = w.exec(ctx, steps); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write transaction: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, s := range steps {
		email, labels := s.events(ids[i])
		w.expect[email] = append(w.expect[email], labels...)
		if s.after != nil {
			s.after(ids[i])
		}
	}
	w.changes += len(steps)
	w.progress.Store(int64(w.changes))
	return nil
}

func (w *writer) exec(ctx context.Context, steps []step) ([]int64, error) {
	ids := make([]int64, len(steps))
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for i, s := range steps {
			b.Queue(s.sql, s.args...).QueryRow(func(r pgx.Row) error { return r.Scan(&ids[i]) })
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return ids, err
}

// expected returns a copy of the per-email event labels in commit order.
func (w *writer) expected() map[string][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string][]string, len(w.expect))
	for k, v := range w.expect {
		out[k] = append([]string(nil), v...)
	}
	return out
}
