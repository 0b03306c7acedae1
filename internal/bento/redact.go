package bento

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// redacted replaces a configured secret in anything Bento or a relay sent
// back before it is logged or stored (issue 11, item 9): a relay may echo
// request headers, Basic credentials included, in an error body.
const redacted = "[redacted]"

// redactor knows the configured secrets in the forms they travel in.
type redactor struct {
	secrets [][]byte // longest first, so a secret containing another goes whole
}

func newRedactor(cfg Config) *redactor {
	values := []string{cfg.SecretKey, cfg.PublishableKey, cfg.SigningSecret}
	if cfg.PublishableKey != "" || cfg.SecretKey != "" {
		values = append(values, base64.StdEncoding.EncodeToString([]byte(cfg.PublishableKey+":"+cfg.SecretKey)))
	}
	for _, v := range cfg.Headers {
		values = append(values, v)
	}
	r := &redactor{}
	for _, v := range values {
		if v == "" {
			continue
		}
		r.secrets = append(r.secrets, []byte(v))
		if q, _ := json.Marshal(v); string(q[1:len(q)-1]) != v { // as it appears inside a JSON string
			r.secrets = append(r.secrets, q[1:len(q)-1])
		}
	}
	slices.SortFunc(r.secrets, func(a, b []byte) int { return len(b) - len(a) })
	return r
}

// bytes returns b with every secret replaced.
func (r *redactor) bytes(b []byte) []byte {
	for _, s := range r.secrets {
		if bytes.Contains(b, s) {
			b = bytes.ReplaceAll(b, s, []byte(redacted))
		}
	}
	return b
}

// string returns s with every secret replaced.
func (r *redactor) string(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, string(sec), redacted)
	}
	return s
}
