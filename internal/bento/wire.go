package bento

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pgbento/cdc/internal/stream"
)

// dateLayout is RFC 3339 with milliseconds; dates are always sent in UTC.
const dateLayout = "2006-01-02T15:04:05.000Z07:00"

// DefaultSource is the webhook source segment used when an event names none.
const DefaultSource = "generic"

// wireEvent is one event as Bento documents it.
type wireEvent struct {
	Type    string         `json:"type"`
	Email   string         `json:"email"`
	Fields  map[string]any `json:"fields,omitempty"`
	Details map[string]any `json:"details,omitempty"`
	Date    string         `json:"date,omitempty"`
}

// EncodeEvent renders ev in Bento's wire format, null fields and details
// left out (the default; see Config.SendNulls). It fails when the event
// cannot be sent at all (no type, no email, an unencodable value), which
// the sender treats as a rejected event. A TypeChangeEmail event renders as
// its command, {"command":"change_email","email":OLD,"query":NEW}.
func EncodeEvent(ev *stream.Event) (json.RawMessage, error) { return encodeEvent(ev, false) }

func encodeEvent(ev *stream.Event, keepNulls bool) (json.RawMessage, error) {
	if ev.Type == "" {
		return nil, errors.New("encode event: type is empty")
	}
	if ev.Email == "" {
		return nil, errors.New("encode event: email is empty")
	}
	if ev.Type == stream.TypeChangeEmail {
		return encodeChangeEmail(ev)
	}
	if b, ok := appendEvent(ev, keepNulls); ok {
		return b, nil
	}
	return marshalEvent(ev, keepNulls)
}

// marshalEvent is the reference encoding, through encoding/json: appendEvent
// hands over to it for what it does not handle, and its tests compare the two.
func marshalEvent(ev *stream.Event, keepNulls bool) (json.RawMessage, error) {
	w := wireEvent{Type: ev.Type, Email: ev.Email, Fields: ev.Fields, Details: ev.Details}
	if !keepNulls {
		w.Fields, w.Details = withoutNulls(ev.Fields), withoutNulls(ev.Details)
	}
	if !ev.Date.IsZero() {
		w.Date = ev.Date.UTC().Format(dateLayout)
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return b, nil
}

// command is one entry of a commands request, as dead letters store it.
type command struct {
	Command string `json:"command"`
	Email   string `json:"email"`
	Query   string `json:"query"`
}

// encodeChangeEmail writes the command as json.Marshal writes a command.
func encodeChangeEmail(ev *stream.Event) (json.RawMessage, error) {
	if ev.NewEmail == "" {
		return nil, errors.New("encode change_email: new email is empty")
	}
	b := append(make([]byte, 0, 48+len(ev.Email)+len(ev.NewEmail)), `{"command":"change_email","email":`...)
	b = appendString(b, ev.Email)
	b = append(b, `,"query":`...)
	b = appendString(b, ev.NewEmail)
	return append(b, '}'), nil
}

// withoutNulls drops null values from m and from the maps nested in it (in
// lists too): Bento documents text, number, date and boolean values, and a
// null may clear a stored field (issue 11, item 5). m itself is returned
// when it holds no null, so the common case allocates nothing.
func withoutNulls(m map[string]any) map[string]any {
	if !hasNull(m) {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = dropNulls(v)
		}
	}
	return out
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return withoutNulls(x)
	case []any:
		if !hasNull(x) {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropNulls(e)
		}
		return out
	}
	return v
}

// hasNull reports whether a map (at any depth) holds a null value.
func hasNull(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if e == nil || hasNull(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
}

// sourceOf is the webhook source segment of an event.
func sourceOf(ev *stream.Event) string {
	if ev.Source == "" {
		return DefaultSource
	}
	return ev.Source
}

// writeBody writes the request body for events: {"events":[...]} for the
// webhook, with "site_uuid" first for the Events API.
func writeBody(buf *bytes.Buffer, transport, siteUUID string, events []json.RawMessage) {
	buf.WriteByte('{')
	if transport == TransportEventsAPI {
		buf.WriteString(`"site_uuid":`)
		buf.Write(appendString(buf.AvailableBuffer(), siteUUID))
		buf.WriteByte(',')
	}
	buf.WriteString(`"events":[`)
	for i, ev := range events {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(ev)
	}
	buf.WriteString("]}")
}

// writeCommands writes a commands request body: {"command":[...]}.
func writeCommands(buf *bytes.Buffer, commands []json.RawMessage) {
	buf.WriteString(`{"command":[`)
	for i, c := range commands {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(c)
	}
	buf.WriteString("]}")
}

// envelopeBytes bounds the body bytes that are not events.
const envelopeBytes = 64
