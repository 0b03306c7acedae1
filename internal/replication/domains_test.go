package replication

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/stream"
)

// TestBaseTypes: a domain becomes its base type, through domains over
// domains and onto arrays; an array of a domain, an enum and built-in
// types stay as they are (a lookup's RowDescription names them so too).
func TestBaseTypes(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	db.Exec(t, `CREATE DOMAIN points AS bigint CHECK (VALUE >= 0);
		CREATE DOMAIN bonus AS points;
		CREATE DOMAIN scores AS int[];
		CREATE TYPE mood AS ENUM ('ok', 'sad');`)
	ctx := context.Background()
	oid := func(name string) uint32 {
		var o uint32
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT $1::regtype::oid`, name).Scan(&o))
		return o
	}
	in := []uint32{oid("points"), oid("bonus"), oid("scores"), oid("points[]"), oid("mood"), pgtype.TextOID, oid("bonus")}
	got, err := BaseTypes(ctx, db.Pool, in)
	require.NoError(t, err)
	require.Equal(t, []uint32{pgtype.Int8OID, pgtype.Int8OID, pgtype.Int4ArrayOID, oid("points[]"), oid("mood"), pgtype.TextOID, pgtype.Int8OID}, got)
	require.Equal(t, oid("points"), in[0], "the argument is not changed")

	// Built-in types only: no catalog read at all (a nil Querier would panic).
	got, err = BaseTypes(ctx, nil, []uint32{pgtype.Int8OID, pgtype.TimestamptzOID})
	require.NoError(t, err)
	require.Equal(t, []uint32{pgtype.Int8OID, pgtype.TimestamptzOID}, got)
}

// TestDecodeResolvesDomainsOncePerRelation: the decoder asks for a
// relation's base types when its Relation message arrives, not per row,
// decodes domain columns as their base types, and a failed catalog read
// is worth another attempt, not a permanent decode error.
func TestDecodeResolvesDomainsOncePerRelation(t *testing.T) {
	t.Parallel()
	const points, stamp = 90001, 90002 // a domain over bigint, one over timestamptz
	var asked [][]uint32
	d := newDecoder()
	d.baseTypes = func(table string, oids []uint32) ([]uint32, error) {
		require.Equal(t, "public.loyalty", table)
		asked = append(asked, oids)
		out := make([]uint32, len(oids))
		for i, o := range oids {
			out[i] = map[uint32]uint32{points: pgtype.Int8OID, stamp: pgtype.TimestamptzOID}[o]
			if out[i] == 0 {
				out[i] = o
			}
		}
		return out, nil
	}
	rel := relationMsg(7, "public", "loyalty", wireCol{"id", pgtype.Int4OID, true}, wireCol{"pts", points, false}, wireCol{"seen", stamp, false})
	msgs := [][]byte{beginMsg(100, 9), rel,
		insertMsg(7, txt("1"), txt("5"), txt("2026-01-02 03:04:05+00")),
		insertMsg(7, txt("2"), txt("6"), null), commitMsg(100, 120)}
	var rows []stream.Row
	for _, m := range msgs {
		changes, err := d.decode(m)
		require.NoError(t, err)
		for _, c := range changes {
			if c.ch.Op == stream.OpInsert {
				rows = append(rows, c.ch.New)
			}
		}
	}
	require.Equal(t, [][]uint32{{pgtype.Int4OID, points, stamp}}, asked, "one catalog read for the relation, none per row")
	require.Equal(t, []stream.Row{
		{"id": int64(1), "pts": int64(5), "seen": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"id": int64(2), "pts": int64(6), "seen": nil},
	}, rows)

	d.baseTypes = func(string, []uint32) ([]uint32, error) {
		return nil, &catalogError{errors.New("resolve column types of public.loyalty: connection refused")}
	}
	_, err := d.decode(rel)
	var ce *catalogError
	require.ErrorAs(t, err, &ce)
	require.False(t, permanent(err), "the database may answer on the next attempt")
}
