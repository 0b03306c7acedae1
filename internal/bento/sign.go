package bento

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// Signature headers. A relay verifies a request by recomputing
//
//	"v1=" + hex(HMAC-SHA256(signing_secret, X-Cdc-Timestamp + "." + body))
//
// and comparing it with X-Cdc-Signature in constant time, rejecting
// timestamps too far from its clock to stop replays.
const (
	HeaderTimestamp = "X-Cdc-Timestamp"
	HeaderSignature = "X-Cdc-Signature"
)

// Signature computes the X-Cdc-Signature value for a body sent at ts (unix
// seconds as sent in X-Cdc-Timestamp).
func Signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// sign adds the timestamp and signature headers.
func sign(h http.Header, secret string, now time.Time, body []byte) {
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Signature(secret, ts, body))
}
