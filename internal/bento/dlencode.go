package bento

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgbento/cdc/internal/pgtext"
)

// How a dead letter's content is stored (issue 10.7). Storing a dead letter
// must never fail because of what it carries, or the queue behind it stalls
// for good. Postgres refuses, in jsonb, a "\u0000" escape (legal JSON and
// legal in a json column), numbers beyond numeric's range and nesting past
// its stack depth; in text, a NUL byte and, in a UTF-8 database, invalid
// UTF-8. So:
//
//   - text columns get valid UTF-8 with NUL written as the four characters
//     `\x00` (they are for people, not for replay);
//   - JSON that jsonb may refuse is stored as {"cdc_base64": "<the exact
//     bytes>"}, which jsonb always takes, and List and Get give the bytes
//     back, so a replay sees exactly what was dead-lettered.

// wrapKey names the one key of the stored form of JSON that jsonb refuses.
const wrapKey = "cdc_base64"

// storedJSON is the jsonb text for b (nil: SQL NULL). force wraps any
// content, for a retry after the server refused the plain form.
func storedJSON(b json.RawMessage, force bool) any {
	if len(b) == 0 {
		return nil
	}
	if force || !json.Valid(b) || bytes.Contains(b, []byte(`\u0000`)) || isWrapped(b) {
		out, _ := json.Marshal(map[string]string{wrapKey: base64.StdEncoding.EncodeToString(b)})
		return string(out)
	}
	return string(b)
}

// loadedJSON reverses storedJSON. Content that was not JSON at all comes
// back as a JSON string, so readers always get valid JSON.
func loadedJSON(s string) json.RawMessage {
	b := []byte(s)
	if !isWrapped(b) {
		return b
	}
	var w map[string]string
	_ = json.Unmarshal(b, &w) // isWrapped parsed it already
	raw, err := base64.StdEncoding.DecodeString(w[wrapKey])
	if err != nil {
		return b
	}
	if !json.Valid(raw) {
		q, _ := json.Marshal(strings.ToValidUTF8(string(raw), "\uFFFD"))
		return q
	}
	return raw
}

// isWrapped reports whether b is an object whose only key is wrapKey with a
// string value: the stored form, which a real event or change never is.
func isWrapped(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !bytes.Contains(b, []byte(wrapKey)) {
		return false
	}
	var w map[string]any
	if json.Unmarshal(b, &w) != nil || len(w) != 1 {
		return false
	}
	_, ok := w[wrapKey].(string)
	return ok
}

// storedText is s as a text column takes it (pgtext.Safe).
func storedText(s string) string { return pgtext.Safe(s) }

// refusedContent reports whether the server refused a value for what it is
// (a data exception, SQLSTATE class 22, or a limit such as nesting depth,
// class 54), not for a reason a retry of the same row could fix.
func refusedContent(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	return pe.Code[:2] == "22" || pe.Code[:2] == "54"
}
