package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// load writes a plausible back office: customers sign up (most opt in),
// orders are placed, paid, shipped, sometimes refunded; customers change
// plans and sometimes opt out.
type load struct {
	pool *pgxpool.Pool
	rate float64
	rnd  *rand.Rand
	n    int
}

func newLoad(pool *pgxpool.Pool, rate float64) *load {
	return &load{pool: pool, rate: rate, rnd: rand.New(rand.NewPCG(1, 2))}
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie"}

// steps are the load's operations with their weights.
func (l *load) steps() []struct {
	weight int
	run    func(context.Context) error
} {
	return []struct {
		weight int
		run    func(context.Context) error
	}{
		{3, l.newCustomer},
		{6, l.newOrder},
		{6, l.payOrder},
		{3, l.shipOrder},
		{1, l.refundOrder},
		{1, l.changePlan},
		{1, l.optOut},
	}
}

func (l *load) run(ctx context.Context) error {
	for range 5 {
		if err := l.newCustomer(ctx); err != nil {
			return err
		}
	}
	steps := l.steps()
	total := 0
	for _, s := range steps {
		total += s.weight
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / l.rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		pick := l.rnd.IntN(total)
		for _, s := range steps {
			if pick -= s.weight; pick < 0 {
				if err := s.run(ctx); err != nil && ctx.Err() == nil {
					return err
				}
				break
			}
		}
	}
}

func (l *load) exec(ctx context.Context, sql string, args ...any) error {
	if _, err := l.pool.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func (l *load) newCustomer(ctx context.Context) error {
	l.n++
	name := firstNames[l.rnd.IntN(len(firstNames))]
	plans := []any{nil, "free", "pro"}
	return l.exec(ctx, `INSERT INTO customers (email, first_name, last_name, plan, marketing_opt_in)
		VALUES ($1, $2, 'Demo', $3, $4)`,
		fmt.Sprintf(" %s.%d@Example.com", name, l.n), name, plans[l.rnd.IntN(3)], l.rnd.IntN(10) < 8)
}

// newOrder places an order; one in four is paid at once (a POS sale).
func (l *load) newOrder(ctx context.Context) error {
	cents := 500 + l.rnd.IntN(20000)
	total := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	if l.rnd.IntN(4) == 0 {
		return l.exec(ctx, `INSERT INTO orders (customer_id, status, total, paid_at)
			SELECT id, 'paid', $1, now() FROM customers ORDER BY random() LIMIT 1`, total)
	}
	return l.exec(ctx, `INSERT INTO orders (customer_id, total)
		SELECT id, $1 FROM customers ORDER BY random() LIMIT 1`, total)
}

func (l *load) payOrder(ctx context.Context) error {
	return l.exec(ctx, `UPDATE orders SET status = 'paid', paid_at = now()
		WHERE id = (SELECT id FROM orders WHERE status = 'pending' ORDER BY random() LIMIT 1)`)
}

func (l *load) shipOrder(ctx context.Context) error {
	return l.exec(ctx, `UPDATE orders SET status = 'shipped', shipped_at = now()
		WHERE id = (SELECT id FROM orders WHERE status = 'paid' ORDER BY random() LIMIT 1)`)
}

func (l *load) refundOrder(ctx context.Context) error {
	return l.exec(ctx, `UPDATE orders SET status = 'refunded', refunded_at = now()
		WHERE id = (SELECT id FROM orders WHERE status IN ('paid', 'shipped') ORDER BY random() LIMIT 1)`)
}

func (l *load) changePlan(ctx context.Context) error {
	return l.exec(ctx, `UPDATE customers SET plan = CASE WHEN plan = 'pro' THEN 'free' ELSE 'pro' END, updated_at = now()
		WHERE id = (SELECT id FROM customers ORDER BY random() LIMIT 1)`)
}

func (l *load) optOut(ctx context.Context) error {
	return l.exec(ctx, `UPDATE customers SET marketing_opt_in = false, updated_at = now()
		WHERE id = (SELECT id FROM customers WHERE marketing_opt_in ORDER BY random() LIMIT 1)`)
}
