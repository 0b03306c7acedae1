package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The catalog questions the syncer asks about the source database, each
// asked in one place: the slot's state, publication membership, live
// columns, replica identity, the syncer's schema, the reader's flush lag.
// They run on a normal connection (the replication connection cannot run
// queries while it streams).

// Querier is what the catalog reads need: a *pgx.Conn or a *pgxpool.Pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// SlotState is the server's view of the replication slot, read once by
// ReadSlot for `cdc status`, the session's starting point and preflight.
type SlotState struct {
	Plugin         string `json:"plugin"`
	Database       string `json:"-"` // the database the slot decodes ("" for a physical slot)
	Active         bool   `json:"active"`
	ConfirmedFlush string `json:"confirmed_flush_lsn"`
	CurrentWAL     string `json:"current_wal_lsn"`
	LagBytes       int64  `json:"lag_bytes"`
	RetainedBytes  int64  `json:"retained_wal_bytes"` // WAL the slot keeps: current WAL end - restart_lsn
	WALStatus      string `json:"wal_status"`
}

// ReadSlot reads slot; nil when it does not exist.
func ReadSlot(ctx context.Context, q Querier, slot string) (*SlotState, error) {
	var st SlotState
	var flush, walStatus, database *string
	err := q.QueryRow(ctx, `
		SELECT plugin, database, active, confirmed_flush_lsn::text, pg_current_wal_lsn()::text,
		       COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint,
		       COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, wal_status
		FROM pg_replication_slots WHERE slot_name = $1`, slot).
		Scan(&st.Plugin, &database, &st.Active, &flush, &st.CurrentWAL, &st.LagBytes, &st.RetainedBytes, &walStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read slot: %w", err)
	}
	st.ConfirmedFlush, st.WALStatus, st.Database = deref(flush), deref(walStatus), deref(database)
	return &st, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// FlushLagSeconds is the server's flush lag for the slot's active reader;
// nil when nobody reads the slot (or the lag is unknown).
func FlushLagSeconds(ctx context.Context, q Querier, slot string) *float64 {
	var secs *float64
	_ = q.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM r.flush_lag)::float8 FROM pg_stat_replication r
		JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1`, slot).Scan(&secs)
	return secs
}

// Publication is what the catalog says about a publication.
type Publication struct {
	Exists    bool
	AllTables bool // FOR ALL TABLES: every table is a member
	Owned     bool // the current role owns it (may add tables to it)
	ViaRoot   bool // publish_via_partition_root: partitions' changes arrive under the root's name
}

// ReadPublication reads the publication name.
func ReadPublication(ctx context.Context, q Querier, name string) (Publication, error) {
	var p Publication
	// pubviaroot through to_jsonb: the column exists from Postgres 13 only.
	err := q.QueryRow(ctx, `SELECT puballtables, pg_has_role(pubowner, 'USAGE'),
		COALESCE((to_jsonb(p) ->> 'pubviaroot')::bool, false) FROM pg_publication p WHERE pubname = $1`,
		name).Scan(&p.AllTables, &p.Owned, &p.ViaRoot)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Publication{}, nil
	case err != nil:
		return p, fmt.Errorf("read publication %s: %w", name, err)
	}
	p.Exists = true
	return p, nil
}

// NotPublished returns the tables ("schema.table", in the order given) that
// publication does not publish. A table counts as published when it is a
// member itself (directly, through FOR ALL TABLES or FOR TABLES IN SCHEMA)
// or when a partitioned table it is a partition of is a member: pgoutput
// then sends the partition's changes too. A table that does not exist is
// not published.
func NotPublished(ctx context.Context, q Querier, publication string, tables []string) ([]string, error) {
	schemas, names, err := splitTables(tables)
	if err != nil {
		return nil, fmt.Errorf("read publication tables: %w", err)
	}
	// By name and oid, never by regclass: a table in a schema the role has
	// no USAGE on must be reported by preflight, not fail this query.
	rows, err := q.Query(ctx, `
		SELECT t.s || '.' || t.n FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(s, n, i)
		LEFT JOIN pg_namespace ns ON ns.nspname = t.s
		LEFT JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = t.n
		WHERE NOT EXISTS (
			SELECT 1 FROM pg_publication_tables pt
			WHERE pt.pubname = $1 AND pt.schemaname = t.s AND pt.tablename = t.n)
		AND NOT EXISTS (
			SELECT 1 FROM pg_publication p JOIN pg_publication_rel pr ON pr.prpubid = p.oid
			WHERE p.pubname = $1 AND c.oid IS NOT NULL AND pr.prrelid IN (SELECT relid FROM pg_partition_ancestors(c.oid)))
		ORDER BY t.i`, publication, schemas, names)
	if err != nil {
		return nil, fmt.Errorf("read publication tables: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read publication tables: %w", err)
	}
	return missing, nil
}

// LiveColumns returns the names of each table's columns as the database
// has them now, for checking the rules against the live schema. Tables that
// do not exist are absent from the map.
func LiveColumns(ctx context.Context, q Querier, tables []string) (map[string][]string, error) {
	cols, err := TableColumns(ctx, q, tables)
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

// ColumnTypes returns each table's columns with their types as
// format_type writes them ("integer", "double precision", "numeric(12,2)"),
// for checking what the rules do with them. Tables that do not exist are
// absent from the map.
func ColumnTypes(ctx context.Context, q Querier, tables []string) (map[string]map[string]string, error) {
	cols, err := TableColumns(ctx, q, tables)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(cols))
	for t, cs := range cols {
		out[t] = make(map[string]string, len(cs))
		for _, c := range cs {
			out[t][c.Name] = c.Type
		}
	}
	return out, nil
}

// IdentityOf is one table's REPLICA IDENTITY code ("d", "n", "f", "i").
type IdentityOf struct {
	Table string // schema.name
	Ident string
}

// ReplicaIdentities returns the REPLICA IDENTITY of the table and, when it
// is partitioned, of every partition below it (each partition sends its
// own old rows), the table first; nil when the table does not exist.
func ReplicaIdentities(ctx context.Context, q Querier, table string) ([]IdentityOf, error) {
	rows, err := q.Query(ctx, `SELECT pn.nspname || '.' || pc.relname, pc.relreplident::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_class pc ON pc.oid = c.oid OR pc.oid IN (SELECT relid FROM pg_partition_tree(c.oid))
		  JOIN pg_namespace pn ON pn.oid = pc.relnamespace
		WHERE n.nspname || '.' || c.relname = $1
		ORDER BY pc.oid <> c.oid, pn.nspname, pc.relname`, table)
	if err != nil {
		return nil, fmt.Errorf("read replica identities of %s: %w", table, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IdentityOf, error) {
		var i IdentityOf
		return i, r.Scan(&i.Table, &i.Ident)
	})
	if err != nil {
		return nil, fmt.Errorf("read replica identities of %s: %w", table, err)
	}
	return out, nil
}

// SchemaExists reports whether the syncer's schema is set up (its
// checkpoint table exists).
func SchemaExists(ctx context.Context, q Querier, schema string) (bool, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'checkpoint')`,
		schema).Scan(&exists); err != nil {
		return false, fmt.Errorf("read schema: %w", err)
	}
	return exists, nil
}

// serverStopping reports whether the server refuses normal connections
// because it is shutting down (SQLSTATE class 57: operator intervention).
// The replication goroutine asks while it waits on a full queue: it is not
// reading the connection then, so it cannot see the walsender asking for
// the confirmation a fast shutdown waits on, and the delivery side may be
// stuck on the same server (lookups, dead letters). Disconnecting lets the
// shutdown finish; the reader resumes after the restart.
func serverStopping(ctx context.Context, pool *pgxpool.Pool) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := pool.Ping(ctx)
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "57")
}

// primaryKey returns the primary key columns of a table, in key order, or
// nil when it has none or the catalog cannot be read (the caller then keeps
// the replica identity columns).
func primaryKey(ctx context.Context, pool *pgxpool.Pool, relID uint32) []string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := pool.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = $1::oid AND i.indisprimary
		ORDER BY array_position(i.indkey::int2[], a.attnum)`, relID)
	if err != nil {
		return nil
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil
	}
	return cols
}

// TableOIDs returns the relation OID of each table ("schema.table") that
// exists; tables that do not exist are absent from the map.
func TableOIDs(ctx context.Context, q Querier, tables []string) (map[string]uint32, error) {
	schemas, names, err := splitTables(tables)
	if err != nil {
		return nil, fmt.Errorf("read table oids: %w", err)
	}
	rows, err := q.Query(ctx, `
		SELECT t.s || '.' || t.n, c.oid FROM unnest($1::text[], $2::text[]) AS t(s, n)
		JOIN pg_namespace ns ON ns.nspname = t.s
		JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = t.n`, schemas, names)
	if err != nil {
		return nil, fmt.Errorf("read table oids: %w", err)
	}
	out := make(map[string]uint32)
	var name string
	var oid uint32
	_, err = pgx.ForEachRow(rows, []any{&name, &oid}, func() error { out[name] = oid; return nil })
	if err != nil {
		return nil, fmt.Errorf("read table oids: %w", err)
	}
	return out, nil
}

// relationLineage returns relID followed by the partitioned tables it is a
// partition of, nearest first (just relID for a table that is no partition
// or no longer exists).
func relationLineage(ctx context.Context, q Querier, relID uint32) ([]uint32, error) {
	rows, err := q.Query(ctx, `SELECT a.relid::oid FROM pg_partition_ancestors($1::oid::regclass) WITH ORDINALITY AS a(relid, i)
		WHERE a.relid::oid <> $1::oid ORDER BY a.i`, relID)
	if err != nil {
		return nil, fmt.Errorf("read partition ancestors: %w", err)
	}
	ancestors, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("read partition ancestors: %w", err)
	}
	return append([]uint32{relID}, ancestors...), nil
}

// firstUserTypeOID bounds the types Postgres bootstraps (FirstGenbkiObjectId
// in access/transam.h): none of them is a domain, so a relation whose
// columns all have types below it costs no catalog read.
const firstUserTypeOID = 10000

// BaseTypes returns oids with each domain replaced by the type it is a
// domain of, following domains over domains down to a type that is none
// (which may be an array: a domain over int8[] becomes int8[]). Other
// types, and domains dropped since, are kept. A lookup's RowDescription
// already names the base type (Postgres sends it for a domain column),
// while pgoutput's Relation message and pg_attribute name the domain: the
// stream and a backfill resolve their columns through this, once per
// relation, so all three decode a value alike. An array of a domain is a
// type of its own, not a domain: it is kept, as in a lookup. pg_type is
// readable by every role.
func BaseTypes(ctx context.Context, q Querier, oids []uint32) ([]uint32, error) {
	out := slices.Clone(oids)
	if !slices.ContainsFunc(oids, func(oid uint32) bool { return oid >= firstUserTypeOID }) {
		return out, nil
	}
	rows, err := q.Query(ctx, `
		WITH RECURSIVE chain(domain, base) AS (
			SELECT t.oid, t.typbasetype FROM pg_type t WHERE t.oid = ANY($1::oid[]) AND t.typtype = 'd'
			UNION ALL
			SELECT c.domain, t.typbasetype FROM chain c JOIN pg_type t ON t.oid = c.base AND t.typtype = 'd')
		SELECT c.domain, c.base FROM chain c JOIN pg_type t ON t.oid = c.base AND t.typtype <> 'd'`, oids)
	if err != nil {
		return nil, fmt.Errorf("read domain base types: %w", err)
	}
	var domain, base uint32
	_, err = pgx.ForEachRow(rows, []any{&domain, &base}, func() error {
		for i, oid := range oids {
			if oid == domain {
				out[i] = base
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read domain base types: %w", err)
	}
	return out, nil
}

// MoveKey returns, for a partitioned table, the columns of its primary key
// (or of its replica identity index, under REPLICA IDENTITY USING INDEX)
// that are not partition key columns (move), in key order: the columns
// that name a row wherever it lives, so equal values on both sides of a
// DELETE and INSERT pair, with a partition key that differs, mean the same
// row moved (partmove.go); and the key's partition key columns (part).
// Nil for a table that is not partitioned, has no such index, or whose key
// is all partition columns. A partition key with an expression gives nil too: Postgres
// allows no primary key or unique index on such a table anyway, and which
// columns the expression reads is not certain without parsing it.
// pg_catalog is readable by every role.
func MoveKey(ctx context.Context, q Querier, relID uint32) (move, part []string, err error) {
	rows, err := q.Query(ctx, `
		SELECT a.attname, a.attnum = ANY (pt.partattrs::int2[]) FROM pg_partitioned_table pt
		JOIN pg_class c ON c.oid = pt.partrelid
		JOIN pg_index i ON i.indrelid = c.oid
		  AND CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
		WHERE pt.partrelid = $1::oid AND pt.partexprs IS NULL
		ORDER BY array_position(i.indkey::int2[], a.attnum)`, relID)
	if err != nil {
		return nil, nil, fmt.Errorf("read partition move key: %w", err)
	}
	var name string
	var isPart bool
	_, err = pgx.ForEachRow(rows, []any{&name, &isPart}, func() error {
		if isPart {
			part = append(part, name)
		} else {
			move = append(move, name)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read partition move key: %w", err)
	}
	if len(move) == 0 || len(part) == 0 {
		return nil, nil, nil
	}
	return move, part, nil
}
