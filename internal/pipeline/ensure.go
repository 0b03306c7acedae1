package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgbento/cdc/internal/backfill"
	"github.com/pgbento/cdc/internal/config"
	"github.com/pgbento/cdc/internal/replication"
	"github.com/pgbento/cdc/internal/stream"
)

// ensure creates the publication and the slot when missing. With
// backfill.on_create, a slot it creates comes with an exported snapshot and
// the rules' tables are backfilled from that snapshot before streaming
// starts: rows before the slot are counted by the backfill, changes after it
// by the stream, each exactly once.
func (s *Syncer) ensure(ctx context.Context, pool *pgxpool.Pool) error {
	cfg, log := s.cfg, s.log
	if err := checkContinuity(ctx, pool, cfg); err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	created, sql, err := replication.EnsurePublication(ctx, conn.Conn(), cfg.Source.Config)
	if err != nil {
		return err
	}
	if created {
		log.Info("publication created or extended", "publication", cfg.Source.Publication, "sql", sql)
	}
	if !cfg.Backfill.OnCreate {
		slotCreated, _, err := replication.EnsureSlot(ctx, cfg.Source.Config)
		if err == nil && slotCreated {
			log.Info("replication slot created", "slot", cfg.Source.Slot)
		}
		return err
	}
	return s.ensureWithBackfill(ctx, pool)
}

// ensureWithBackfill creates the slot with a snapshot and backfills from it,
// or, when the slot exists, finishes a first-time backfill that a crash
// interrupted (from current data: rows changed since may be sent twice;
// purchases are deduplicated by their unique key). Every table is
// registered before the first row is sent, so a crash never leaves a table
// out. A table with earlier backfill progress is not sent again.
func (s *Syncer) ensureWithBackfill(ctx context.Context, pool *pgxpool.Pool) error {
	cfg := s.cfg
	slot, err := slotState(ctx, pool, cfg.Source.Slot)
	if err != nil {
		return err
	}
	if slot != nil {
		unfinished, err := backfill.Unfinished(ctx, pool, cfg.Source.Schema)
		if err != nil || len(unfinished) == 0 {
			return err
		}
		s.log.Warn("resuming an interrupted first-time backfill from current data", "tables", unfinished)
		return s.backfill(ctx, pool, unfinished, "")
	}
	tables, err := s.neverBackfilled(ctx, pool)
	if err != nil {
		return err
	}
	snap, err := replication.CreateSlotWithSnapshot(ctx, cfg.Source.Config)
	if err != nil {
		return err
	}
	defer snap.Close(context.WithoutCancel(ctx))
	if len(tables) == 0 {
		return nil
	}
	if err := backfill.Register(ctx, pool, cfg.Source.Schema, tables, snap.Name); err != nil {
		return err
	}
	s.log.Info("replication slot created; backfilling from its snapshot", "slot", cfg.Source.Slot,
		"consistent_point", snap.ConsistentPoint.String(), "tables", tables)
	return s.backfill(ctx, pool, tables, snap.Name)
}

// neverBackfilled is the rules' tables without any backfill progress: a
// table backfilled before (by hand, or for an earlier slot) is not sent
// again on its own; `cdc backfill --restart` does that on purpose.
func (s *Syncer) neverBackfilled(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	known, err := backfill.Known(ctx, pool, s.cfg.Source.Schema)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range s.cfg.Compiled.Tables() {
		if contains(known, t) {
			s.log.Warn("not backfilling a table backfilled before; use cdc backfill --restart to send it again", "table", t)
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Syncer) backfill(ctx context.Context, pool *pgxpool.Pool, tables []string, snapshot string) error {
	defer s.setPhase("")
	for _, table := range tables {
		s.setPhase("first-time backfill of " + table + " (streaming starts after it)")
		res, err := backfill.Run(ctx, backfill.Options{
			Pool: pool, Rules: s.cfg.Compiled, Schema: s.cfg.Source.Schema, Table: table, Snapshot: snapshot,
			ChunkSize: s.cfg.Backfill.ChunkSize, Bento: s.cfg.Bento, HTTPClient: s.opts.HTTPClient,
			Version: s.opts.Version, Logger: s.opts.Logger,
			Progress: backfill.NewLogReporter(s.opts.Logger, 10*time.Second),
		})
		if err != nil {
			return fmt.Errorf("first-time backfill of %s: %w", table, err)
		}
		s.log.Info("first-time backfill done", "table", table, "rows", res.Rows, "events", res.Events, "failures", res.Failures)
	}
	return nil
}

// LiveColumns returns the columns of each table as the database has them
// now, for checking the rules against the live schema. Tables that do not
// exist are absent from the map.
func LiveColumns(ctx context.Context, conn *pgx.Conn, tables []string) (map[string][]string, error) {
	cols, err := replication.TableColumns(ctx, conn, tables)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(cols))
	for t, cs := range cols {
		for _, c := range cs {
			out[t] = append(out[t], c.Name)
		}
	}
	return out, nil
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// quoteQualified renders "schema.table" for SQL the operator will read and
// run: plain names as they are, anything else quoted.
func quoteQualified(t string) string {
	schema, table, _ := strings.Cut(t, ".")
	if plainIdent.MatchString(schema) && plainIdent.MatchString(table) {
		return schema + "." + table
	}
	return pgx.Identifier{schema, table}.Sanitize()
}

// checkContinuity refuses to stream when the stored checkpoint cannot be
// continued from: a slot that disappeared (dropped, or lost in a failover)
// while a checkpoint exists means the changes in between were never read,
// and a checkpoint ahead of the server's WAL means the database was restored
// or replaced. Creating a fresh slot silently would lose those changes, or
// skip every transaction until the WAL caught up.
func checkContinuity(ctx context.Context, pool *pgxpool.Pool, cfg *config.Config) error {
	p, err := replication.NewCheckpointStore(pool, cfg.Source.Schema, cfg.Source.Slot).Load(ctx)
	if err != nil || p.IsZero() {
		return err
	}
	slot, err := slotState(ctx, pool, cfg.Source.Slot)
	if err != nil {
		return err
	}
	reset := fmt.Sprintf("to start over: DELETE FROM %s.checkpoint WHERE slot_name = '%s'; then run again and send the rows again (cdc backfill --all --restart; purchases are deduplicated by their unique key)",
		cfg.Source.Schema, cfg.Source.Slot)
	if slot == nil {
		return fmt.Errorf("replication slot %q is missing but a checkpoint exists at %s: changes made since then were never read; %s",
			cfg.Source.Slot, p.CommitLSN, reset)
	}
	var current string
	if err := pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&current); err != nil {
		return fmt.Errorf("read current wal lsn: %w", err)
	}
	cur, err := stream.ParseLSN(current)
	if err != nil {
		return err
	}
	if p.CommitLSN > cur {
		return fmt.Errorf("the checkpoint (%s) is ahead of this server's WAL (%s): the database was restored or replaced; %s",
			p.CommitLSN, cur, reset)
	}
	return nil
}
