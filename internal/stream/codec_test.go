package stream

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestChangeRoundTrip(t *testing.T) {
	c := &Change{
		Pos: Position{CommitLSN: 0x16B374D848, Index: 3}, Op: OpUpdate, Table: "public.orders", Key: []string{"id"},
		New: Row{"id": int64(7), "total": Numeric("19.99"), "paid_at": time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
			"note": Unchanged, "email": nil, "ok": true, "score": 1.5, "nan": math.Inf(1), "raw": []byte{0, 1, 2},
			"tags": []any{"a", "b"}, "amounts": []any{Numeric("1.10"), nil}, "doc": map[string]any{"n": json.Number("12345678901234567890")},
			"deep": Unrepresentable{Reason: "decode json: exceeded max depth"}},
		Columns:    []string{"id", "total"},
		Old:        Row{"id": int64(7), "total": Numeric("0")},
		CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Xid: 42,
	}
	b, err := MarshalChange(c)
	require.NoError(t, err)
	got, err := UnmarshalChange(b)
	require.NoError(t, err)
	require.Equal(t, c.New, got.New)
	require.Equal(t, c.Old, got.Old)
	require.Equal(t, c.Op, got.Op)
	require.Equal(t, c.Columns, got.Columns)
	require.Equal(t, c.Pos.CommitLSN, got.Pos.CommitLSN)
	require.Equal(t, c.Pos.Index, got.Pos.Index)
	require.True(t, c.CommitTime.Equal(got.CommitTime))
}

func TestLSNAndPosition(t *testing.T) {
	l, err := ParseLSN("16/B374D848")
	require.NoError(t, err)
	require.Equal(t, "16/B374D848", l.String())
	_, err = ParseLSN("nope")
	require.Error(t, err)
	a := Position{CommitLSN: 10, Index: 1, Sub: 2}
	require.True(t, a.Less(Position{CommitLSN: 10, Index: 1, Sub: 3}))
	require.True(t, a.Less(Position{CommitLSN: 11}))
	require.False(t, a.Less(a))
}

func TestKeyString(t *testing.T) {
	c := &Change{Key: []string{"id", "region", "amount"}, New: Row{"id": int64(7), "region": "eu", "amount": Numeric("1.50")}}
	require.Equal(t, "id=7,region=eu,amount=1.50", c.KeyString())
	c = &Change{Key: []string{"id"}, Old: Row{"id": int64(9)}}
	require.Equal(t, "id=9", c.KeyString(), "a delete keys on the old row")
}

// TestChangeRoundTripTimesBeyondRFC3339: Postgres dates run from 4713 BC to
// 5874897 AD; RFC 3339 has four-digit years.
func TestChangeRoundTripTimesBeyondRFC3339(t *testing.T) {
	far := time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC)
	bc := time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	c := &Change{Op: OpInsert, New: Row{"far": far, "bc": bc, "mixed": []any{now, bc, nil}}}
	b, err := MarshalChange(c)
	require.NoError(t, err)
	got, err := UnmarshalChange(b)
	require.NoError(t, err)
	require.Equal(t, c.New, got.New)
}
