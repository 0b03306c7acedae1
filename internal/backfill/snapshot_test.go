package backfill

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/rules"
	"github.com/pgbento/cdc/internal/stream"
)

// TestSnapshotBackfillAndStreamCountEachOrderOnce is the first-start path:
// create the slot with a snapshot, backfill from the snapshot while other
// sessions keep paying and inserting orders, then stream from the slot
// through the same rules. Every paid order is counted exactly once, by the
// backfill (paid before the slot) or by the stream (paid after).
func TestSnapshotBackfillAndStreamCountEachOrderOnce(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedOrders(t, db, 50, 20000)
	set := exampleRules(t)
	ctx := context.Background()
	cfg := replicationConfig(t, db, set)

	snap, err := replication.CreateSlotWithSnapshot(ctx, cfg)
	require.NoError(t, err)
	defer func() { _ = snap.Close(ctx) }()

	w := startWriter(t, db)
	<-w.warm // writes after the snapshot have begun
	fb := newFakeBento(t)
	opts := fb.options(db, set, "orders")
	opts.Snapshot = snap.Name
	res, err := Run(ctx, opts)
	require.NoError(t, err)
	require.EqualValues(t, 20000, res.Rows, "the snapshot hides rows inserted after it")
	require.NoError(t, snap.Close(ctx))
	changes := w.stop()
	require.Greater(t, changes, 30, "the writer must overlap the backfill")

	keys := purchaseKeys(fb.Received())
	for k, n := range streamPurchases(t, db, cfg, set, changes) {
		keys[k] += n
	}
	want := paidOrders(t, db)
	require.Len(t, keys, len(want))
	for id := range want {
		require.Equal(t, 1, keys[id], "order %s", id)
	}
}

func replicationConfig(t testing.TB, db *pgtest.DB, set *rules.Set) replication.Config {
	t.Helper()
	cfg := replication.Config{DSN: db.DSN, Slot: db.Name, Publication: "pub", Schema: schema, Tables: set.Tables(),
		StatusInterval: 100 * time.Millisecond, Heartbeat: 200 * time.Millisecond}
	cfg.SetDefaults()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, _, err = replication.EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	return cfg
}

// writer pays pending orders, ships paid ones and inserts new paid ones,
// one transaction of three row changes at a time, until stopped.
type writer struct {
	once    sync.Once
	warm    chan struct{}
	done    chan struct{}
	result  chan int
	changes int
}

func startWriter(t testing.TB, db *pgtest.DB) *writer {
	w := &writer{warm: make(chan struct{}), done: make(chan struct{}), result: make(chan int, 1)}
	t.Cleanup(func() { w.stop() })
	go func() {
		defer func() { w.result <- w.changes }()
		defer func() {
			select {
			case <-w.warm:
			default:
				close(w.warm) // never leave the test waiting
			}
		}()
		for i := 0; i < 500; i++ {
			select {
			case <-w.done:
				return
			default:
			}
			if i == 10 {
				close(w.warm)
			}
			if err := w.step(db, i); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	return w
}

func (w *writer) step(db *pgtest.DB, i int) error {
	pending, paid := 5*(i+1), 5*(i+1)+1 // by seedOrders' status pattern
	return pgx.BeginFunc(context.Background(), db.Pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			fmt.Sprintf(`UPDATE orders SET status = 'paid', paid_at = now() WHERE id = %d AND status = 'pending'`, pending),
			fmt.Sprintf(`UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = %d AND status = 'paid'`, paid),
			`INSERT INTO orders (customer_id, status, total, paid_at) VALUES (1, 'paid', 12.34, now())`,
		} {
			tag, err := tx.Exec(context.Background(), q)
			if err != nil {
				return err
			}
			w.changes += int(tag.RowsAffected())
		}
		return nil
	})
}

// stop ends the writer and returns the row changes it committed.
// It is idempotent.
func (w *writer) stop() int {
	w.once.Do(func() {
		close(w.done)
		w.changes = <-w.result
	})
	return w.changes
}

// streamPurchases evaluates the rules on want row changes from the slot as
// the syncer does, counting $purchase keys.
func streamPurchases(t testing.TB, db *pgtest.DB, cfg replication.Config, set *rules.Set, want int) map[string]int {
	t.Helper()
	eval := rules.NewEvaluator(set, db.Pool)
	keys := map[string]int{}
	for _, c := range readChanges(t, db, cfg, want) {
		items, err := eval.Evaluate(context.Background(), &c, nil)
		require.NoError(t, err)
		for _, it := range items {
			if it.Kind == stream.ItemEvent && it.Event.Type == "$purchase" {
				keys[fmt.Sprint(it.Event.Details["unique"].(map[string]any)["key"])]++
			}
		}
	}
	return keys
}

// readChanges reads want inserts and updates from the slot.
func readChanges(t testing.TB, db *pgtest.DB, cfg replication.Config, want int) []stream.Change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := make(chan stream.Change, 64)
	reader := replication.NewReader(cfg, replication.NewCheckpointStore(db.Pool, schema, cfg.Slot), replication.Options{})
	done := make(chan error, 1)
	go func() { done <- reader.Run(ctx, out) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	var got []stream.Change
	for len(got) < want {
		select {
		case c := <-out:
			if c.Op == stream.OpInsert || c.Op == stream.OpUpdate {
				got = append(got, c)
			}
		case <-ctx.Done():
			t.Fatalf("stream: saw %d of %d changes", len(got), want)
		}
	}
	return got
}
