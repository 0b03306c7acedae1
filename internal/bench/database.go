package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/pglocal"
	"github.com/pgbento/cdc/internal/retry"
)

// database is the server the benchmark writes to and reads from.
type database struct {
	dsn     string
	pool    *pgxpool.Pool
	server  *pglocal.Server // nil when the user gave a DSN
	version string
}

// openDatabase connects to o.DSN or starts a throwaway server.
func openDatabase(ctx context.Context, o *Options) (*database, error) {
	d := &database{dsn: o.DSN}
	if d.dsn == "" {
		fmt.Fprintln(o.Out, "starting a throwaway Postgres (wal_level=logical) ...")
		srv, err := pglocal.Start(ctx, o.Bindir, pglocal.Options{})
		if err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
		d.server, d.dsn = srv, srv.DSN("postgres")
	}
	cfg, err := pgxpool.ParseConfig(d.dsn)
	if err != nil {
		d.close()
		return nil, errors.New("parse dsn: invalid connection string") // the error may quote a password
	}
	cfg.MaxConns = int32(o.Writers) + 2 // the steady writers, and the poller beside them
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	d.pool = pool
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&d.version); err != nil {
		d.close()
		return nil, fmt.Errorf("read server version: %w", err)
	}
	return d, nil
}

// close removes what the benchmark created and stops a throwaway server.
func (d *database) close() {
	if d.pool != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = d.drop(ctx)
		cancel()
		d.pool.Close()
	}
	if d.server != nil {
		_ = d.server.Stop()
	}
}

// prepare recreates the tables, the customers, the publication and the
// pgoutput slots. The publication comes first: pgoutput looks it up as of
// each decoded change, so it must predate the slots. Every slot starts
// before any order is written, so every consumer sees the same backlog.
func (d *database) prepare(ctx context.Context, customers int, slots ...string) error {
	if err := d.drop(ctx); err != nil {
		return err
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{schemaSQL, nil},
		{customersSQL, []any{customers}},
		{"CREATE PUBLICATION " + publication + " FOR TABLE " + dataSchema + ".orders", nil},
	}
	for _, slot := range slots {
		steps = append(steps, struct {
			sql  string
			args []any
		}{"SELECT pg_create_logical_replication_slot($1, 'pgoutput')", []any{slot}})
	}
	for _, s := range steps {
		if _, err := d.pool.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("prepare benchmark database: %w", err)
		}
	}
	return nil
}

// createProbeSlot adds the steady mode's test_decoding slot; false when
// the server lacks test_decoding (a contrib module).
func (d *database) createProbeSlot(ctx context.Context) bool {
	_, err := d.pool.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'test_decoding')", probeSlot)
	return err == nil
}

// drop removes the slots, the publication and both schemas. A slot whose
// consumer just exited may still be marked active for a moment: retry.
func (d *database) drop(ctx context.Context) error {
	const dropSlots = `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
		WHERE starts_with(slot_name::text, $1) AND database = current_database()`
	var err error
	for range 100 {
		if _, err = d.pool.Exec(ctx, dropSlots, slotPrefix+"_"); err == nil {
			break
		}
		if retry.Sleep(ctx, 100*time.Millisecond) != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("drop benchmark slots: %w", err)
	}
	_, err = d.pool.Exec(ctx, "DROP PUBLICATION IF EXISTS "+publication+"; DROP SCHEMA IF EXISTS "+
		dataSchema+" CASCADE; DROP SCHEMA IF EXISTS "+stateSchema+" CASCADE")
	if err != nil {
		return fmt.Errorf("drop benchmark objects: %w", err)
	}
	return nil
}

// endOfBacklog returns the WAL position after everything written so far,
// then writes one more (non-transactional, undecoded) WAL record past it:
// pg_recvlogical stops at --endpos only once the server has sent something
// at or beyond it, and an idle server might send nothing for a long time.
func (d *database) endOfBacklog(ctx context.Context) (string, error) {
	var lsn string
	if err := d.pool.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&lsn); err != nil {
		return "", fmt.Errorf("read wal position: %w", err)
	}
	// The transaction with an xid and synchronous_commit on flushes the WAL
	// at once (the throwaway server commits asynchronously): the walsender
	// only decodes flushed WAL.
	if _, err := d.pool.Exec(ctx, "BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(false, '"+
		markPrefix+"', 'end'); SELECT txid_current(); COMMIT"); err != nil {
		return "", fmt.Errorf("write end marker: %w", err)
	}
	return lsn, nil
}

// slotActive reports whether a consumer is streaming from slot.
func (d *database) slotActive(ctx context.Context, slot string) (bool, error) {
	var active bool
	err := d.pool.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("slot %s is gone", slot)
	}
	if err != nil {
		return false, fmt.Errorf("read slot %s: %w", slot, err)
	}
	return active, nil
}

// waitActive returns once a consumer streams from slot; exited closing
// first means the consumer died.
func (d *database) waitActive(ctx context.Context, slot string, exited <-chan struct{}) error {
	for {
		active, err := d.slotActive(ctx, slot)
		if err != nil || active {
			return err
		}
		select {
		case <-exited:
			return fmt.Errorf("the consumer of slot %s exited before streaming", slot)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
