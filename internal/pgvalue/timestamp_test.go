package pgvalue

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// pgxTime is decodeTime without the fast path: what pgx makes of text.
func pgxTime(t *testing.T, d Decoder, oid uint32, text []byte) (time.Time, bool) {
	t.Helper()
	var err error
	var tm time.Time
	var inf pgtype.InfinityModifier
	if oid == pgtype.TimestamptzOID {
		var v pgtype.Timestamptz
		err = d.types.Scan(oid, pgtype.TextFormatCode, text, &v)
		tm, inf = v.Time, v.InfinityModifier
	} else {
		var v pgtype.Timestamp
		err = d.types.Scan(oid, pgtype.TextFormatCode, text, &v)
		tm, inf = v.Time, v.InfinityModifier
	}
	return tm.UTC(), err == nil && inf == pgtype.Finite
}

// requireSameTime checks that parseISOTimestamp, where it takes a text,
// reads the instant pgx reads.
func requireSameTime(t *testing.T, d Decoder, oid uint32, text []byte) bool {
	t.Helper()
	got, ok := parseISOTimestamp(oid, text)
	if !ok {
		return false
	}
	want, wantOK := pgxTime(t, d, oid, text)
	require.True(t, wantOK, "took %q, which pgx rejects", text)
	require.Equal(t, want, got.UTC(), "%q", text)
	return true
}

func TestParseISOTimestampMatchesPgx(t *testing.T) {
	t.Parallel()
	d := New()
	for _, s := range []string{"2026-11-30 08:27:00+00", "2026-11-30 08:27:00.123456+00", "2026-11-30 08:27:00.1+00",
		"0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00", "2024-02-29 12:00:00.05+00"} {
		require.True(t, requireSameTime(t, d, pgtype.TimestamptzOID, []byte(s)), s)
		plain := s[:len(s)-3]
		require.True(t, requireSameTime(t, d, pgtype.TimestampOID, []byte(plain)), plain)
	}
	for _, s := range []string{"2026-11-30 08:27:00+01", "2026-11-30 08:27:00", "4713-01-01 00:00:00+00 BC",
		"294276-12-31 23:59:59+00", "infinity", "2023-02-29 00:00:00+00", "2026-11-30 24:00:00+00",
		"2026-11-30 08:27:00.1234567+00", "2026-11-30 08:27:00.+00", "2026-11-30T08:27:00+00", "0000-01-01 00:00:00+00"} {
		_, ok := parseISOTimestamp(pgtype.TimestamptzOID, []byte(s))
		require.False(t, ok, s)
	}
}

func FuzzParseISOTimestamp(f *testing.F) {
	for _, s := range []string{"2026-11-30 08:27:00.123456+00", "2024-02-29 23:59:59+00", "0001-01-01 00:00:00"} {
		f.Add(false, s)
		f.Add(true, s)
	}
	d := New()
	f.Fuzz(func(t *testing.T, withZone bool, s string) {
		oid := uint32(pgtype.TimestampOID)
		if withZone {
			oid = pgtype.TimestamptzOID
		}
		requireSameTime(t, d, oid, []byte(s))
	})
}
