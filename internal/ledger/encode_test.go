package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// FuzzAppendString: whatever the bytes, the JSON string is valid JSON and
// holds exactly what pgtext.Safe makes of them, so the batch's JSON and
// its emails/keys arrays (appendElem) always agree.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00", "a\x00b", "\xff\xfe", "\xc3", `\u0000`, "é\x00\xed\xa0\x80", "q\"b\\s\n\x1f\x7f", "\uFFFD\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		require.NoError(t, json.Unmarshal(appendString(nil, s), &back))
		require.Equal(t, pgtext.Safe(s), back)
	})
}

// An event's JSON holds each field under the key the view reads, and
// leaves out what is empty.
func TestAppendEvent(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	r := Record{Origin: OriginStream, Delivered: stream.Delivered{
		Pos: stream.Position{CommitLSN: 0x1_0000_00AB, Index: 3, Sub: 2}, Rule: "buy", Table: "public.orders", Key: "id=7",
		Type: "$purchase", Email: "Ann@example.com", Date: at,
		Value: stream.Value{UniqueKey: "7", Amount: -1999, HasAmount: true, Currency: "USD"},
	}}
	require.JSONEq(t, `{"ru":"buy","ty":"$purchase","em":"Ann@example.com","tb":"public.orders","rk":"id=7","uk":"7",
		"am":-1999,"cu":"USD","d":"2026-05-01T12:00:00.123456Z","l":"1/ab","ci":3,"es":2}`, string(appendEvent(nil, &r)))
	bare := Record{Origin: OriginBackfill, Delivered: stream.Delivered{Rule: "sub", Type: "$subscribe", Email: "b@example.com"}}
	require.JSONEq(t, `{"ru":"sub","ty":"$subscribe","em":"b@example.com"}`, string(appendEvent(nil, &bare)))
}
