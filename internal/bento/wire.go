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

// EncodeEvent renders ev in Bento's wire format. It fails when the event
// cannot be sent at all (no type, no email, an unencodable value), which the
// sender treats as a rejected event.
func EncodeEvent(ev *stream.Event) (json.RawMessage, error) {
	if ev.Type == "" {
		return nil, errors.New("encode event: type is empty")
	}
	if ev.Email == "" {
		return nil, errors.New("encode event: email is empty")
	}
	w := wireEvent{Type: ev.Type, Email: ev.Email, Fields: ev.Fields, Details: ev.Details}
	if !ev.Date.IsZero() {
		w.Date = ev.Date.UTC().Format(dateLayout)
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return b, nil
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
		site, _ := json.Marshal(siteUUID) // a string always encodes
		buf.WriteString(`"site_uuid":`)
		buf.Write(site)
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

// envelopeBytes bounds the body bytes that are not events.
const envelopeBytes = 64
