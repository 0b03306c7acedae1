package replication

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/pgvalue"
	"github.com/pgbento/cdc/internal/stream"
)

// replicationParams are the replication connection's session settings:
// pgvalue.SessionSettings shape pgoutput's text output, so pgvalue's
// decoder always sees ISO dates in UTC.
func replicationParams() map[string]string {
	p := map[string]string{"replication": "database", "application_name": "cdc"}
	for _, kv := range pgvalue.SessionSettings() {
		p[kv[0]] = kv[1]
	}
	return p
}

// connectReplication opens a replication connection to cfg.DSN.
func connectReplication(ctx context.Context, dsn string) (*pgconn.PgConn, error) {
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// The error text may quote the DSN, which may hold a password.
		return nil, errors.New("parse dsn: invalid connection string")
	}
	for k, v := range replicationParams() {
		pc.RuntimeParams[k] = v
	}
	conn, err := pgconn.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect replication: %w", err)
	}
	return conn, nil
}

// EnsureSlot creates cfg.Slot (logical, pgoutput) when it does not exist.
// It exports no snapshot: an exported snapshot only lives while the
// creating connection stays idle, which a function that returns cannot
// promise. Use CreateSlotWithSnapshot for that.
func EnsureSlot(ctx context.Context, cfg Config) (created bool, err error) {
	point, err := EnsureSlotAt(ctx, cfg)
	return point != 0, err
}

// EnsureSlotAt is EnsureSlot returning the new slot's consistent point, its
// identity for the checkpoint (slotidentity.go); 0 when the slot existed.
func EnsureSlotAt(ctx context.Context, cfg Config) (stream.LSN, error) {
	conn, err := connectReplication(ctx, cfg.DSN)
	if err != nil {
		return 0, fmt.Errorf("ensure slot: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res, err := pglogrepl.CreateReplicationSlot(ctx, conn, cfg.Slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42710" { // duplicate_object: it exists
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("create replication slot %s: %w", cfg.Slot, err)
	}
	point, err := stream.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, fmt.Errorf("create replication slot %s: %w", cfg.Slot, err)
	}
	return point, nil
}

// SlotSnapshot is a freshly created slot with its exported snapshot. The
// snapshot (SET TRANSACTION SNAPSHOT Name, in a REPEATABLE READ transaction)
// shows the database exactly at ConsistentPoint, the slot's first position,
// until Close.
type SlotSnapshot struct {
	Name            string
	ConsistentPoint stream.LSN
	conn            *pgconn.PgConn
}

// CreateSlotWithSnapshot creates cfg.Slot and keeps its replication
// connection open so the exported snapshot stays usable (a backfill reads
// existing rows in it, then streaming starts exactly after them). It fails
// if the slot already exists. Close releases the snapshot.
func CreateSlotWithSnapshot(ctx context.Context, cfg Config) (*SlotSnapshot, error) {
	conn, err := connectReplication(ctx, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("create slot with snapshot: %w", err)
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, conn, cfg.Slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("create replication slot %s: %w", cfg.Slot, err)
	}
	lsn, err := stream.ParseLSN(res.ConsistentPoint)
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("create replication slot %s: %w", cfg.Slot, err)
	}
	return &SlotSnapshot{Name: res.SnapshotName, ConsistentPoint: lsn, conn: conn}, nil
}

// Close releases the snapshot. It is idempotent.
func (s *SlotSnapshot) Close(ctx context.Context) error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close(ctx)
	s.conn = nil
	return err
}
