package ledger

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// FuzzAppendQuoted: whatever the bytes, the JSON string is valid JSON and
// the array element a valid quoted element, and both hold exactly what
// pgtext.Safe makes of them, so a batch's JSON and its emails/keys arrays
// always agree.
func FuzzAppendQuoted(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00", "a\x00b", "\xff\xfe", "\xc3", `\u0000`, "é\x00\xed\xa0\x80",
		"q\"b\\s\n\x1f\x7f", "\uFFFD\xff", "\u2028", "a\xffb\xfe\xfdc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		require.NoError(t, json.Unmarshal(appendQuoted(nil, s, true), &back))
		require.Equal(t, pgtext.Safe(s), back)
		require.Equal(t, pgtext.Safe(s), unquoteElem(t, string(appendQuoted(nil, s, false))))
	})
}

// unquoteElem reads a double-quoted text[] element as Postgres does.
func unquoteElem(t *testing.T, q string) string {
	require.True(t, len(q) >= 2 && q[0] == '"' && q[len(q)-1] == '"', q)
	var sb strings.Builder
	for i := 1; i < len(q)-1; i++ {
		c := q[i]
		require.NotEqual(t, byte('"'), c, "an unescaped quote in %q", q)
		if c == '\\' {
			i++
			c = q[i]
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// An event's JSON holds each field under the key the view reads, and
// leaves out what is empty.
func TestAppendEvent(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	d := stream.Delivered{
		Pos: stream.Position{CommitLSN: 0x1_0000_00AB, Index: 3, Sub: 2}, Rule: "buy", Table: "public.orders", Key: "id=7",
		Type: "$purchase", Email: "Ann@example.com", Date: at,
		Value: stream.Value{UniqueKey: "7", Amount: -1999, HasAmount: true, Currency: "USD"},
	}
	require.JSONEq(t, `{"ru":"buy","ty":"$purchase","em":"Ann@example.com","tb":"public.orders","rk":"id=7","uk":"7",
		"am":-1999,"cu":"USD","d":"2026-05-01T12:00:00.123456Z","l":"1/ab","ci":3,"es":2}`, string(appendEvent(nil, &d, true, "")))
	bare := stream.Delivered{Rule: "sub", Type: "$subscribe", Email: "b@example.com"}
	require.JSONEq(t, `{"ru":"sub","ty":"$subscribe","em":"b@example.com","ad":"7"}`, string(appendEvent(nil, &bare, false, "7")))
}

// One write of records from two requests is two batches in one statement;
// the arrays leave out empty strings and a repeat of the string before.
func TestFillSplitsBatchesByRequest(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := func(req, email, key string) Record {
		return Record{Origin: OriginBackfill, Delivered: stream.Delivered{Request: req, Accepted: at, Email: email, Key: key}}
	}
	s := new(scratch)
	require.Equal(t, 2, s.fill(recordEvents([]Record{rec("r1", "a@x", "id=1"), rec("r1", "a@x", "id=2"), rec("r2", "b\"@x", "")})))
	require.Len(t, s.args, 2*batchArgs)
	require.Equal(t, "r1", s.args[2])
	require.Equal(t, `{"a@x"}`, string(s.args[4].([]byte)))
	require.Equal(t, `{"id=1","id=2"}`, string(s.args[5].([]byte)))
	require.Equal(t, `{"b\"@x"}`, string(s.args[batchArgs+4].([]byte)))
	require.Equal(t, `{}`, string(s.args[batchArgs+5].([]byte)))
}
