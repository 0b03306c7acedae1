package replication

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/promreg"
	"github.com/pgbento/cdc/internal/stream"
	"github.com/pgbento/cdc/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// harness is one test's database, slot, publication and reader.
type harness struct {
	t      testing.TB
	db     *pgtest.DB
	cfg    Config
	store  *CheckpointStore
	out    chan stream.Change
	reader *Reader
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error

	saveFailingAfter time.Duration // Options.SaveFailingAfter of the readers it starts
}

// newHarness creates a database with ddl, the syncer schema, and a slot and
// publication for tables. The slot is created after ddl, so only later
// writes are streamed.
func newHarness(t testing.TB, ddl string, tables ...string) *harness {
	t.Helper()
	db := pgtest.NewDB(t)
	if ddl != "" {
		db.Exec(t, ddl)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.DSN)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, migrations.Apply(ctx, conn, "cdc"))
	cfg := Config{DSN: db.DSN, Slot: db.Name, Publication: "pub", Tables: tables,
		StatusInterval: 100 * time.Millisecond, Heartbeat: 200 * time.Millisecond, QueueSize: 64}
	cfg.SetDefaults()
	require.Empty(t, cfg.Validate())
	_, _, err = EnsurePublication(ctx, conn, cfg)
	require.NoError(t, err)
	created, err := EnsureSlot(ctx, cfg)
	require.NoError(t, err)
	require.True(t, created)
	h := &harness{t: t, db: db, cfg: cfg, store: NewCheckpointStore(db.Pool, "cdc", cfg.Slot)}
	t.Cleanup(h.stop)
	return h
}

// start runs a new Reader (a fresh process, as far as it knows).
func (h *harness) start() {
	h.t.Helper()
	h.startLogging(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// startLogging is start with the reader's log going to logger.
func (h *harness) startLogging(logger *slog.Logger) {
	h.t.Helper()
	h.out = make(chan stream.Change, h.cfg.QueueSize)
	h.reg = prometheus.NewRegistry()
	h.reader = NewReader(h.cfg, h.store, Options{Logger: logger, Registry: h.reg, SaveFailingAfter: h.saveFailingAfter})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func(r *Reader, out chan stream.Change) { h.done <- r.Run(ctx, out) }(h.reader, h.out)
}

// stop ends the reader and waits for Run to return (idempotent).
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		require.NoError(h.t, err)
	case <-time.After(30 * time.Second):
		h.t.Error("reader did not stop")
	}
	h.cancel = nil
	require.NoError(h.t, h.reader.Close())
}

// ack is the delivery side's acknowledgement, as the pipeline passes it on:
// it returns once pos is saved.
func (h *harness) ack(pos stream.Position) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.reader.AckFunc(ctx)(pos)
	require.NoError(h.t, ctx.Err(), "the checkpoint was not saved within 30s")
}

// next returns the next change or fails after a timeout.
func (h *harness) next() stream.Change {
	h.t.Helper()
	select {
	case ch := <-h.out:
		h.reader.Release(&ch)
		return ch
	case err := <-h.done:
		h.done <- err // for stop, which waits for it
		h.t.Fatalf("reader stopped: %v", err)
	case <-time.After(20 * time.Second):
		h.t.Fatal("no change within 20s")
	}
	return stream.Change{}
}

// tx returns the next whole transaction: its changes and the commit marker.
func (h *harness) tx() ([]stream.Change, stream.Change) {
	h.t.Helper()
	var changes []stream.Change
	for {
		ch := h.next()
		if ch.Op == stream.OpCommit {
			return changes, ch
		}
		changes = append(changes, ch)
	}
}

// quiet asserts nothing more arrives for a short while.
func (h *harness) quiet() {
	h.t.Helper()
	select {
	case ch := <-h.out:
		h.t.Fatalf("unexpected change %s %s %v", ch.Op, ch.Pos, ch.New)
	case <-time.After(500 * time.Millisecond):
	}
}

// confirmedFlush reads the slot's confirmed_flush_lsn.
func (h *harness) confirmedFlush() stream.LSN {
	h.t.Helper()
	var s string
	err := h.db.Pool.QueryRow(context.Background(),
		`SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, h.cfg.Slot).Scan(&s)
	require.NoError(h.t, err)
	lsn, err := stream.ParseLSN(s)
	require.NoError(h.t, err)
	return lsn
}

func (h *harness) currentWAL() stream.LSN {
	h.t.Helper()
	var s string
	require.NoError(h.t, h.db.Pool.QueryRow(context.Background(), `SELECT pg_current_wal_lsn()::text`).Scan(&s))
	lsn, err := stream.ParseLSN(s)
	require.NoError(h.t, err)
	return lsn
}

// metric returns the value of the named counter or gauge: the series with
// the given label pairs (name, value, ...), or the only series.
func (h *harness) metric(name string, labelPairs ...string) float64 {
	h.t.Helper()
	v, err := promreg.Value(h.reg, name, labelPairs...)
	require.NoError(h.t, err)
	return v
}
