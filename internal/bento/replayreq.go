package bento

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/pgbento/cdc/internal/stream"
)

// replayRequest is the events of one dead letter that go to one webhook
// source in one request.
type replayRequest struct {
	source string
	events []json.RawMessage
	sends  []send
}

// bySource groups a dead letter's sends into one request per source, in
// the order the sources first appear.
func bySource(sends []send) []replayRequest {
	var out []replayRequest
	at := map[string]int{}
	for _, sd := range sends {
		i, ok := at[sd.source]
		if !ok {
			i = len(out)
			at[sd.source] = i
			out = append(out, replayRequest{source: sd.source})
		}
		out[i].events = append(out[i].events, sd.event)
		out[i].sends = append(out[i].sends, sd)
	}
	return out
}

// accepted is the ledger's record of the request's events, accepted in
// request req at at, for dead letter d.
func (rq replayRequest) accepted(d DeadLetter, req string, at time.Time) []stream.Delivered {
	out := make([]stream.Delivered, 0, len(rq.sends))
	for _, sd := range rq.sends {
		ev := sd.ev
		if ev == nil {
			ev = storedEvent(d, sd.event)
		}
		out = append(out, stream.Delivered{Rule: ev.Rule, Table: ev.Table, Key: ev.Key, Type: ev.Type, Email: ev.Email,
			Date: ev.Date, Value: stream.ValueOf(ev.Details), Request: req, Accepted: at, Committed: ev.Committed})
	}
	return out
}

// storedEvent reads what the ledger needs from a stored wire event or
// command; d names its rule, table and row.
func storedEvent(d DeadLetter, raw json.RawMessage) *stream.Event {
	ev := &stream.Event{Rule: d.Rule, Table: d.Table, Key: d.Key}
	var c command
	if isCommand(raw) && json.Unmarshal(raw, &c) == nil {
		ev.Type, ev.Email = stream.TypeChangeEmail, c.Email
		return ev
	}
	var w struct {
		Type    string         `json:"type"`
		Email   string         `json:"email"`
		Date    time.Time      `json:"date"`
		Details map[string]any `json:"details"`
	}
	d2 := json.NewDecoder(bytes.NewReader(raw))
	d2.UseNumber()
	_ = d2.Decode(&w) // sendable parsed it already
	ev.Type, ev.Email, ev.Date, ev.Details = w.Type, w.Email, w.Date, w.Details
	return ev
}
