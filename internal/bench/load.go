package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/retry"
)

// writeBacklog inserts n paid orders in transactions of txSize rows (one
// INSERT ... SELECT each, so the writer is never the slow part), each with
// a note of noteBytes.
func writeBacklog(ctx context.Context, pool *pgxpool.Pool, n, txSize, customers, noteBytes int) error {
	for from := 1; from <= n; from += txSize {
		to := min(from+txSize-1, n)
		if _, err := pool.Exec(ctx, ordersSQL, from, to, customers, noteBytes); err != nil {
			return fmt.Errorf("write backlog orders %d-%d: %w", from, to, err)
		}
	}
	return nil
}

// commit is one order the steady writer committed.
type commit struct {
	key string    // the order id: the event's details.unique.key
	at  time.Time // when COMMIT returned to the writer
}

// steadyWriter commits single-order transactions at rate per second for
// duration, on several connections so one slow commit does not delay the
// next. Order i is due at start + i/rate; a writer that falls behind
// catches up without sleeping, so the achieved rate shows in the count.
type steadyWriter struct {
	pool      *pgxpool.Pool
	rate      int
	duration  time.Duration
	writers   int
	customers int
}

func (w steadyWriter) run(ctx context.Context) ([]commit, time.Duration, error) {
	total := int64(w.rate) * int64(w.duration) / int64(time.Second)
	interval := time.Second / time.Duration(w.rate)
	var next atomic.Int64
	results := make([][]commit, w.writers)
	errs := make([]error, w.writers)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range w.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.loop(ctx, start, interval, total, &next)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	var all []commit
	for i := range w.writers {
		if errs[i] != nil {
			return nil, took, errs[i]
		}
		all = append(all, results[i]...)
	}
	return all, took, nil
}

// loop is one writer connection taking the next due order until all are
// written. synchronous_commit is on for these sessions: with it off (the
// throwaway server's default) the commit record waits up to
// wal_writer_delay to be flushed, and the walsender only decodes flushed
// WAL, so latency would measure the WAL writer, not the syncer.
func (w steadyWriter) loop(ctx context.Context, start time.Time, interval time.Duration, total int64, next *atomic.Int64) ([]commit, error) {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("steady writer: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		return nil, fmt.Errorf("steady writer: %w", err)
	}
	var out []commit
	for {
		i := next.Add(1) - 1
		if i >= total {
			return out, nil
		}
		if err := retry.Sleep(ctx, time.Until(start.Add(time.Duration(i)*interval))); err != nil {
			return out, err
		}
		var id int64
		if err := conn.QueryRow(ctx, orderSQL, 1+i%int64(w.customers)).Scan(&id); err != nil {
			return out, fmt.Errorf("steady writer: insert order: %w", err)
		}
		out = append(out, commit{key: strconv.FormatInt(id, 10), at: time.Now()})
	}
}
