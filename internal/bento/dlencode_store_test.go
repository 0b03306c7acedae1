package bento_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento"
	"github.com/pgbento/cdc/internal/bento/bentotest"
	"github.com/pgbento/cdc/internal/stream"
)

// TestDeadLetterContentNeverFailsTheInsert: issue 10.7. JSON that json
// accepts and jsonb refuses (a \u0000 escape, a number beyond numeric), a
// NUL byte and invalid UTF-8 in text: the dead letter is stored, and List
// gives the JSON back exactly, so a replay sees what was dead-lettered.
func TestDeadLetterContentNeverFailsTheInsert(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	event := json.RawMessage(`{"type":"note","email":"ann@example.com","details":{"note":"a\u0000b"}}`)
	change := json.RawMessage(`{"op":"insert","new":{"doc":{"n":1e1000000}},"index":0}`)
	in := bento.DeadLetter{Kind: bento.KindRejected, Rule: "notes", Table: "public.notes", Key: "id=1\x00",
		Reason: "bento answered HTTP 400: bad \x00 byte", Status: 400, Response: "{\"error\":\"nul \x00 here\xff\"}",
		Pos: stream.Position{CommitLSN: 0x10, Index: 1, Sub: 1}, Event: event, Change: change}
	require.NoError(t, store.Put(ctx, in))
	wrapped := in
	wrapped.Pos.Index, wrapped.Event = 2, json.RawMessage(`{"cdc_base64":"not what it seems"}`)
	require.NoError(t, store.Put(ctx, wrapped), "a real object that looks like the stored form")

	all, err := store.List(ctx, bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	got := all[0]
	require.Equal(t, string(event), string(got.Event))
	require.Equal(t, string(change), string(got.Change))
	require.Equal(t, `bento answered HTTP 400: bad \x00 byte`, got.Reason)
	require.Equal(t, "{\"error\":\"nul \\x00 here\uFFFD\"}", got.Response)
	require.Equal(t, `id=1\x00`, got.Key)
	require.Equal(t, string(wrapped.Event), string(all[1].Event))

	c, err := stream.UnmarshalChange(got.Change)
	require.NoError(t, err, "the stored change still replays")
	require.Equal(t, json.Number("1e1000000"), c.New["doc"].(map[string]any)["n"])
}

// TestRejectedEventWithNULIsStored: an event Bento rejects that carries a
// \u0000, answered with a body holding a NUL byte, is dead-lettered and the
// stream goes on (issue 10.7).
func TestRejectedEventWithNULIsStored(t *testing.T) {
	noLeaks(t)
	store := newStore(t)
	h := newHarness(t, options{dlq: store, noRun: true})
	h.bento.Script(bentotest.Response{Status: 400, Body: "{\"error\":\"bad\x00\"}"})
	bad := event(0, "ann@example.com")
	bad.Event.Details["note"] = "a\x00b"
	h.expectDead(bad.Pos)
	h.enqueue(bad) // alone, so the scripted answer is its own
	h.run()
	h.drain()
	h.enqueue(event(1, "ann@example.com"))
	h.drain()

	require.Equal(t, pos(1), h.lastAck())
	dls, err := store.List(context.Background(), bento.ListOptions{})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Contains(t, string(dls[0].Event), `"note":"a\u0000b"`)
	require.Equal(t, `{"error":"bad\x00"}`, dls[0].Response)
}

// TestUnstorableDeadLetterHaltsVisibly: when a dead letter cannot be
// stored at all, delivery holds and Healthy (hence /readyz) says why, with
// one ERROR line; once it can be stored, delivery resumes (issue 10.7).
func TestUnstorableDeadLetterHaltsVisibly(t *testing.T) {
	noLeaks(t)
	store, db := newStoreDB(t)
	db.Exec(t, `ALTER TABLE cdc.dead_letters RENAME TO dead_letters_away`)
	h := newHarness(t, options{dlq: store})
	failure := stream.Item{Kind: stream.ItemFailure, Pos: pos(0), Failure: &stream.Failure{
		Pos: pos(0), Rule: "orders", Table: "public.orders", Key: "id=0", Reason: "email is NULL",
		Change: []byte(`{"op":"insert"}`)}}
	h.expectDead(failure.Pos)
	h.enqueue(failure, event(1, "ann@example.com"))
	require.Eventually(t, func() bool { ok, _ := h.sender.Healthy(); return !ok }, 10*time.Second, 5*time.Millisecond)
	_, reason := h.sender.Healthy()
	require.Contains(t, reason, "cannot store a dead letter: insert dead letter:")
	require.Contains(t, reason, "dead_letters")
	require.True(t, h.lastAck().IsZero(), "nothing behind the dead letter is acknowledged")

	db.Exec(t, `ALTER TABLE cdc.dead_letters_away RENAME TO dead_letters`)
	h.drain()
	ok, _ := h.sender.Healthy()
	require.True(t, ok)
	require.Equal(t, pos(1), h.lastAck())
	require.Equal(t, 1, strings.Count(h.logs.String(), "cannot store a dead letter"), "logged once, not per retry")
	require.Contains(t, h.logs.String(), "dead letters can be stored again")
}
