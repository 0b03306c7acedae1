package ledger

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pgtest"
	"github.com/pgbento/cdc/internal/pgtext"
	"github.com/pgbento/cdc/internal/stream"
)

// FuzzAppendString: whatever the bytes, the JSON string is valid JSON and
// holds exactly what pgtext.Safe makes of them.
func FuzzAppendString(f *testing.F) {
	for _, s := range controlAndBroken {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		require.NoError(t, json.Unmarshal(appendString(nil, s), &back))
		require.Equal(t, pgtext.Safe(s), back)
	})
}

var controlAndBroken = []string{"", "plain", "\x00", "a\x00b", "\xff\xfe", "\xc3", `\u0000`, "é\x00\xed\xa0\x80",
	"q\"b\\s\n\x1f\x7f", "\uFFFD\xff", "\u2028", "a\xffb\xfe\xfdc", "\b\f\n\r\t\x01\x1b"}

// A string is written as Postgres' to_json writes it (what lookups search
// the stored text for), once pgtext.Safe made it text.
func TestAppendStringIsToJSON(t *testing.T) {
	db := pgtest.NewDB(t)
	for _, s := range controlAndBroken {
		var want string
		require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT to_json($1::text)::text`, pgtext.Safe(s)).Scan(&want))
		require.Equal(t, want, string(appendString(nil, s)), "%q", s)
	}
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

// One write of records from two requests is two batches in one statement.
func TestFillSplitsBatchesByRequest(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := func(req, email string) Record {
		return Record{Origin: OriginBackfill, Delivered: stream.Delivered{Request: req, Accepted: at, Email: email}}
	}
	s := new(scratch)
	require.Equal(t, 2, s.fill(recordEvents([]Record{rec("r1", "a@x"), rec("r1", "b@x"), rec("r2", "c@x")})))
	require.Len(t, s.args, 2*batchArgs)
	require.Equal(t, "r1", s.args[2])
	require.JSONEq(t, `[{"ru":"","ty":"","em":"a@x"},{"ru":"","ty":"","em":"b@x"}]`, string(s.args[3].([]byte)))
	require.Equal(t, "r2", s.args[batchArgs+2])
	require.JSONEq(t, `[{"ru":"","ty":"","em":"c@x"}]`, string(s.args[batchArgs+3].([]byte)))
}
