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

// process handles a request as Bento would and returns status and body.
func (b *Bento) process(r *http.Request, body []byte, idx int) (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	transport, site, source, ok := route(r)
	if !ok || r.Method != http.MethodPost {
		return http.StatusNotFound, jsonError("no such endpoint")
	}
	if status, msg := b.authorize(r, body, transport, site); status != 0 {
		return status, jsonError(msg)
	}
	var env struct {
		SiteUUID string            `json:"site_uuid"`
		Events   []json.RawMessage `json:"events"`
	}
	if err := decodeJSON(body, &env); err != nil || env.Events == nil {
		return http.StatusBadRequest, jsonError("body must be {\"events\":[...]}")
	}
	if transport == "events_api" {
		if env.SiteUUID == "" || (b.opts.SiteUUID != "" && env.SiteUUID != b.opts.SiteUUID) {
			return http.StatusNotFound, jsonError("unknown site")
		}
		site = env.SiteUUID
	}
	if (b.maxEvents > 0 && len(env.Events) > b.maxEvents) || (b.maxBytes > 0 && len(body) > b.maxBytes) {
		return http.StatusRequestEntityTooLarge, jsonError("payload too large")
	}
	evs, status, msg := b.parse(env.Events, transport, site, source, idx)
	if status != 0 {
		return status, jsonError(msg)
	}
	b.received = append(b.received, evs...)
	if transport == "events_api" {
		return http.StatusOK, fmt.Sprintf(`{"results":%d,"failed":0}`, len(evs))
	}
	return http.StatusOK, `{"success":true}`
}

// route recognises the two endpoints.
func route(r *http.Request) (transport, site, source string, ok bool) {
	if r.URL.Path == "/api/v1/batch/events" {
		return "events_api", "", "", true
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 4 && parts[0] == "webhooks" && parts[3] == "track" && parts[1] != "" && parts[2] != "" {
		return "webhook", parts[1], parts[2], true
	}
	return "", "", "", false
}

// authorize checks site, relay headers, Basic auth and signature.
func (b *Bento) authorize(r *http.Request, body []byte, transport, site string) (int, string) {
	o := b.opts
	if transport == "webhook" && o.SiteUUID != "" && site != o.SiteUUID {
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
	if transport == "events_api" && (o.PublishableKey != "" || o.SecretKey != "") {
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

// parse validates each event; one invalid or rejected event fails the
// whole request with 400, as Bento does.
func (b *Bento) parse(raws []json.RawMessage, transport, site, source string, idx int) ([]ReceivedEvent, int, string) {
	out := make([]ReceivedEvent, 0, len(raws))
	for i, raw := range raws {
		var ev struct {
			Type    string         `json:"type"`
			Email   string         `json:"email"`
			Fields  map[string]any `json:"fields"`
			Details map[string]any `json:"details"`
			Date    string         `json:"date"`
		}
		if err := decodeJSON(raw, &ev); err != nil || ev.Type == "" || ev.Email == "" {
			return nil, http.StatusBadRequest, fmt.Sprintf("event %d: type and email are required", i)
		}
		re := ReceivedEvent{Transport: transport, Site: site, Source: source, Type: ev.Type, Email: ev.Email,
			Fields: ev.Fields, Details: ev.Details, Date: ev.Date, Raw: append(json.RawMessage(nil), raw...), Request: idx}
		if b.reject != nil && b.reject(re) {
			return nil, http.StatusBadRequest, fmt.Sprintf("event %d is invalid", i)
		}
		out = append(out, re)
	}
	return out, 0, ""
}
