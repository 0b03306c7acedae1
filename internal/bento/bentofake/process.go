package bentofake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Bento's published limits.
const (
	maxEventsPerRequest   = 1000
	maxCommandsPerRequest = 100
	maxListedErrors       = 20
)

// Endpoints.
const (
	endpointWebhook  = "webhook"
	endpointEvents   = "events_api"
	endpointCommands = "commands"
)

// process handles a request as Bento would and returns status and body.
func (b *Bento) process(r *http.Request, body []byte, idx int) (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	endpoint, site, source, ok := route(r)
	if !ok {
		return http.StatusNotFound, jsonError("no such endpoint")
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, jsonError("use POST")
	}
	if endpoint != endpointWebhook {
		site = r.URL.Query().Get("site_uuid")
		if site == "" {
			return http.StatusBadRequest, jsonError("site_uuid is a required query parameter")
		}
	}
	if status, msg := b.authorize(r, body, endpoint, site); status != 0 {
		return status, jsonError(msg)
	}
	if b.maxBytes > 0 && len(body) > b.maxBytes {
		return http.StatusRequestEntityTooLarge, jsonError("payload too large")
	}
	switch endpoint {
	case endpointCommands:
		return b.commandsRequest(body, idx)
	case endpointEvents:
		return b.eventsRequest(body, site, idx)
	default:
		return b.webhookRequest(body, site, source, idx)
	}
}

// route recognises the three endpoints.
func route(r *http.Request) (endpoint, site, source string, ok bool) {
	switch r.URL.Path {
	case "/api/v1/batch/events":
		return endpointEvents, "", "", true
	case "/api/v1/fetch/commands":
		return endpointCommands, "", "", true
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 4 && parts[0] == "webhooks" && parts[3] == "track" && parts[1] != "" && parts[2] != "" {
		return endpointWebhook, parts[1], parts[2], true
	}
	return "", "", "", false
}

// authorize checks site, relay headers, Basic auth and signature.
func (b *Bento) authorize(r *http.Request, body []byte, endpoint, site string) (int, string) {
	o := b.opts
	if o.SiteUUID != "" && site != o.SiteUUID {
		return http.StatusNotFound, "unknown site"
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusUnsupportedMediaType, "content type must be application/json"
	}
	for k, v := range o.Headers {
		if r.Header.Get(k) != v {
			return http.StatusUnauthorized, "missing or wrong header " + k
		}
	}
	if endpoint != endpointWebhook && (o.PublishableKey != "" || o.SecretKey != "") {
		if u, p, ok := r.BasicAuth(); !ok || u != o.PublishableKey || p != o.SecretKey {
			return http.StatusUnauthorized, "bad credentials"
		}
	}
	if o.SigningSecret != "" && !validSignature(o.SigningSecret, r.Header, body) {
		return http.StatusUnauthorized, "bad signature"
	}
	return 0, ""
}

// validSignature checks X-Cdc-Signature as a relay would.
func validSignature(secret string, h http.Header, body []byte) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(h.Get("X-Cdc-Timestamp") + "."))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Cdc-Signature")))
}

// envelope is the body of both event endpoints.
type envelope struct {
	SiteUUID *string           `json:"site_uuid"`
	Events   []json.RawMessage `json:"events"`
}

// webhookRequest accepts all events or none: one invalid or rejected event
// fails the request with 400 (the webhook publishes no partial answer).
func (b *Bento) webhookRequest(body []byte, site, source string, idx int) (int, string) {
	var env envelope
	if err := decodeJSON(body, &env); err != nil || env.Events == nil {
		return http.StatusBadRequest, jsonError(`body must be {"events":[...]}`)
	}
	if b.maxEvents > 0 && len(env.Events) > b.maxEvents {
		return http.StatusRequestEntityTooLarge, jsonError("payload too large")
	}
	out := make([]ReceivedEvent, 0, len(env.Events))
	for i, raw := range env.Events {
		ev, err := b.parseEvent(raw, endpointWebhook, site, source, idx)
		if err == "" && b.reject != nil && b.reject(ev) {
			err = "invalid event"
		}
		if err != "" {
			return http.StatusBadRequest, jsonError(fmt.Sprintf("event %d: %s", i, err))
		}
		out = append(out, ev)
	}
	b.accept(out)
	return http.StatusOK, `{"success":true}`
}

// eventError is one entry of the Events API's "errors".
type eventError struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

// eventsRequest answers as the Events API documents: 400 for a malformed
// request (no events array, more than 1000, a row without email); otherwise
// every valid event is accepted and the others are listed by index (at most
// 20), with 200 when some were accepted and 422 when none were.
func (b *Bento) eventsRequest(body []byte, site string, idx int) (int, string) {
	var env envelope
	if err := decodeJSON(body, &env); err != nil || env.Events == nil {
		return http.StatusBadRequest, jsonError(`body must be {"events":[...]}`)
	}
	if env.SiteUUID != nil && *env.SiteUUID != site {
		return http.StatusBadRequest, jsonError("site_uuid in the body differs from the query")
	}
	if len(env.Events) == 0 || len(env.Events) > maxEventsPerRequest {
		return http.StatusBadRequest, jsonError(fmt.Sprintf("events must hold 1 to %d events", maxEventsPerRequest))
	}
	if b.maxEvents > 0 && len(env.Events) > b.maxEvents {
		return http.StatusRequestEntityTooLarge, jsonError("payload too large")
	}
	var out []ReceivedEvent
	var errs []eventError
	for i, raw := range env.Events {
		ev, err := b.parseEvent(raw, endpointEvents, site, "", idx)
		if ev.Email == "" {
			return http.StatusBadRequest, jsonError(fmt.Sprintf("event %d: email is required", i))
		}
		if err == "" && b.reject != nil && b.reject(ev) {
			err = "invalid event"
		}
		if err != "" {
			errs = append(errs, eventError{Index: i, Error: err})
			continue
		}
		out = append(out, ev)
	}
	b.accept(out)
	return eventsAnswer(len(out), errs)
}

// eventsAnswer renders {"results","failed","errors"} and its status.
func eventsAnswer(accepted int, errs []eventError) (int, string) {
	answer := struct {
		Results int          `json:"results"`
		Failed  int          `json:"failed"`
		Errors  []eventError `json:"errors,omitempty"`
	}{Results: accepted, Failed: len(errs), Errors: errs[:min(len(errs), maxListedErrors)]}
	b, _ := json.Marshal(answer) // plain structs always encode
	status := http.StatusOK
	if accepted == 0 && len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return status, string(b)
}

// parseEvent decodes one event; a non-empty reason means it is invalid.
func (b *Bento) parseEvent(raw json.RawMessage, endpoint, site, source string, idx int) (ReceivedEvent, string) {
	var ev struct {
		Type    string         `json:"type"`
		Email   string         `json:"email"`
		Fields  map[string]any `json:"fields"`
		Details map[string]any `json:"details"`
		Date    string         `json:"date"`
	}
	if err := decodeJSON(raw, &ev); err != nil {
		return ReceivedEvent{}, "not an event object"
	}
	re := ReceivedEvent{Transport: endpoint, Site: site, Source: source, Type: ev.Type, Email: ev.Email,
		Fields: ev.Fields, Details: ev.Details, Date: ev.Date, Raw: append(json.RawMessage(nil), raw...), Request: idx}
	switch {
	case ev.Type == "":
		return re, "type is required"
	case ev.Email == "":
		return re, "email is required"
	}
	return re, ""
}

// accept records events on the subscribers they land on.
func (b *Bento) accept(evs []ReceivedEvent) {
	for _, ev := range evs {
		ev.Profile = b.profiles.of(ev.Email)
		b.received = append(b.received, ev)
	}
}

// commandsRequest handles POST /api/v1/fetch/commands: at most 100
// commands; change_email moves the subscriber to the new address.
func (b *Bento) commandsRequest(body []byte, idx int) (int, string) {
	var req struct {
		Command []struct {
			Command string `json:"command"`
			Email   string `json:"email"`
			Query   string `json:"query"`
		} `json:"command"`
	}
	if err := decodeJSON(body, &req); err != nil || req.Command == nil {
		return http.StatusBadRequest, jsonError(`body must be {"command":[...]}`)
	}
	if len(req.Command) > maxCommandsPerRequest {
		return http.StatusUnprocessableEntity, jsonError(fmt.Sprintf("at most %d commands per request", maxCommandsPerRequest))
	}
	for i, c := range req.Command {
		if !knownCommand(c.Command) || c.Email == "" || c.Query == "" {
			return http.StatusBadRequest, jsonError(fmt.Sprintf("command %d: want command, email and query", i))
		}
	}
	for _, c := range req.Command {
		b.commands = append(b.commands, Command{Command: c.Command, Email: c.Email, Query: c.Query, Request: idx})
		if c.Command == "change_email" {
			b.profiles.changeEmail(c.Email, c.Query)
		}
	}
	return http.StatusOK, fmt.Sprintf(`{"results":%d}`, len(req.Command))
}

func knownCommand(c string) bool {
	switch c {
	case "add_tag", "add_tag_via_event", "remove_tag", "add_field", "remove_field", "subscribe", "unsubscribe", "change_email":
		return true
	}
	return false
}
