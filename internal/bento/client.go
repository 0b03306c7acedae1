package bento

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Response bodies are read through these limits: enough to log and
// dead-letter Bento's answer, never an unbounded read.
const (
	maxResponseRead  = 64 << 10
	maxResponseDrain = 1 << 20
	maxStoredBody    = 4 << 10
)

// Client sends one batch of encoded events to Bento in one HTTP request. It
// holds no queue and does not retry; Sender and Replay build on it.
type Client struct {
	cfg       Config
	hc        *http.Client
	userAgent string
	base      string
	now       func() time.Time
}

// NewClient builds a client for cfg (defaults already set). hc nil means a
// dedicated keep-alive transport. No I/O.
func NewClient(cfg Config, hc *http.Client, version string) (*Client, error) {
	base := strings.TrimRight(cfg.baseURL(), "/")
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("parse bento base url: %w", err)
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
		hc = &http.Client{Transport: tr}
	}
	if version == "" {
		version = "dev"
	}
	return &Client{
		cfg:       cfg,
		hc:        hc,
		userAgent: "cdc-bento/" + version + " (+https://github.com/pgbento/cdc)",
		base:      base,
		now:       time.Now,
	}, nil
}

// CloseIdleConnections releases the client's kept-alive connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// outcome classifies Bento's answer; one predicate (classify) decides it.
type outcome int

const (
	outcomeOK       outcome = iota + 1 // 2xx: delivered
	outcomeRetry                       // 408, 429, 5xx, timeouts, connection errors
	outcomeTooLarge                    // 413: split the batch
	outcomeRejected                    // other 4xx, or Events API "failed" > 0: isolate bad events
	outcomeHalt                        // 401, 403, 404, redirects: the config is wrong
)

func (o outcome) String() string {
	return [...]string{"", "ok", "retry", "too_large", "rejected", "halt"}[o]
}

// result is what one request produced.
type result struct {
	outcome    outcome
	status     int // 0 when no response arrived
	err        error
	retryAfter time.Duration
	body       []byte // response body, up to maxResponseRead
	bytes      int    // request body size
	payload    []byte // request body, for debug logs
	duration   time.Duration
}

// statusLabel is the metric label for the result.
func (r result) statusLabel() string {
	if r.status == 0 {
		return "error"
	}
	return fmt.Sprint(r.status)
}

// reason is a one-line description for logs and dead letters.
func (r result) reason() string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.outcome == outcomeRejected && r.status/100 == 2:
		return fmt.Sprintf("bento reported failed events (HTTP %d)", r.status)
	default:
		return fmt.Sprintf("bento answered HTTP %d", r.status)
	}
}

// url is the endpoint for a webhook source (ignored by the Events API).
func (c *Client) url(source string) string {
	if c.cfg.Transport == TransportEventsAPI {
		return c.base + "/api/v1/batch/events"
	}
	return c.base + "/webhooks/" + url.PathEscape(c.cfg.SiteUUID) + "/" + url.PathEscape(source) + "/track"
}

// post sends events in one request, bounded by the configured timeout.
func (c *Client) post(ctx context.Context, source string, events []json.RawMessage) result {
	var buf bytes.Buffer
	writeBody(&buf, c.cfg.Transport, c.cfg.SiteUUID, events)
	body := buf.Bytes()
	res := result{bytes: len(body), payload: body}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(source), bytes.NewReader(body))
	if err != nil {
		res.outcome, res.err = outcomeHalt, fmt.Errorf("build bento request: %w", err)
		return res
	}
	c.header(req, body)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		res.duration = time.Since(start)
		res.outcome, res.err = outcomeRetry, fmt.Errorf("post to bento: %w", withoutURL(err))
		return res
	}
	res.status = resp.StatusCode
	res.body, err = readBody(resp)
	res.duration = time.Since(start)
	if err != nil && classify(resp.StatusCode) != outcomeOK {
		res.outcome, res.err = outcomeRetry, fmt.Errorf("read bento response: %w", err)
		return res
	}
	// A 2xx whose body could not be read was still accepted: re-sending it
	// would duplicate every event in it.
	res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	res.outcome = classify(resp.StatusCode)
	if res.outcome == outcomeOK && c.cfg.Transport == TransportEventsAPI && eventsFailed(res.body) {
		res.outcome = outcomeRejected
	}
	return res
}

// header sets content type, user agent, operator headers, auth and signature.
func (c *Client) header(req *http.Request, body []byte) {
	h := req.Header
	for k, v := range c.cfg.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	if c.cfg.Transport == TransportEventsAPI {
		req.SetBasicAuth(c.cfg.PublishableKey, c.cfg.SecretKey)
	}
	if c.cfg.SigningSecret != "" {
		sign(h, c.cfg.SigningSecret, c.now(), body)
	}
}

// readBody reads up to maxResponseRead bytes, then drains (bounded) and
// closes so the connection goes back to the keep-alive pool.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	if err != nil {
		return b, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseDrain))
	return b, nil
}

// classify is the one predicate that decides what a status code means.
func classify(status int) outcome {
	switch {
	case status >= 200 && status < 300:
		return outcomeOK
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return outcomeRetry
	case status == http.StatusRequestEntityTooLarge:
		return outcomeTooLarge
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound:
		return outcomeHalt
	case status >= 400:
		return outcomeRejected
	default: // 1xx/3xx that the client did not follow: a misconfigured URL
		return outcomeHalt
	}
}

// eventsFailed reads the Events API answer {"results":N,"failed":M}. An
// answer that does not parse counts as success: the request was accepted,
// and re-sending it would duplicate events.
func eventsFailed(body []byte) bool {
	var a struct {
		Failed int `json:"failed"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return false
	}
	return a.Failed > 0
}

// truncate shortens a response body for storage.
func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(bytes.ToValidUTF8(b, nil))
}

// withoutURL drops the request URL from a transport error: for the webhook
// transport the URL holds the site UUID, the endpoint's only credential.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
