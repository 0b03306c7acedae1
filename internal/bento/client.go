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

// MaxCommandsPerRequest is Bento's limit of commands per request.
const MaxCommandsPerRequest = 100

// Client sends one batch of encoded events (or commands) to Bento in one
// HTTP request. It holds no queue and does not retry; Sender and Replay
// build on it. It never follows a redirect: a 3xx is an answer (issue 11,
// item 1), so events are never re-posted, with the operator's headers and
// signature, to a place nobody configured.
type Client struct {
	cfg       Config
	hc        *http.Client
	userAgent string
	base      string
	redact    *redactor
	now       func() time.Time
}

// NewClient builds a client for cfg (defaults already set). hc nil means a
// dedicated keep-alive transport; a given hc is copied, so its own redirect
// policy is replaced without changing it for its other users. No I/O.
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
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if version == "" {
		version = "dev"
	}
	return &Client{
		cfg:       cfg,
		hc:        &noRedirects,
		userAgent: "cdc-bento/" + version + " (+https://github.com/pgbento/cdc)",
		base:      base,
		redact:    newRedactor(cfg),
		now:       time.Now,
	}, nil
}

// CloseIdleConnections releases the client's kept-alive connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// commandsSource is the endpoint key of commands (change_email): they go to
// the Events API's commands endpoint, never in a batch of events.
const commandsSource = "\x00commands"

// url is the endpoint for a webhook source (ignored by the Events API, which
// takes site_uuid as a query parameter).
func (c *Client) url(source string) string {
	site := "?site_uuid=" + url.QueryEscape(c.cfg.SiteUUID)
	switch {
	case source == commandsSource:
		return c.base + "/api/v1/fetch/commands" + site
	case c.cfg.Transport == TransportEventsAPI:
		return c.base + "/api/v1/batch/events" + site
	}
	return c.base + "/webhooks/" + url.PathEscape(c.cfg.SiteUUID) + "/" + url.PathEscape(source) + "/track"
}

// post sends events (or, for commandsSource, commands) in one request.
func (c *Client) post(ctx context.Context, source string, items []json.RawMessage) result {
	var buf bytes.Buffer
	if source == commandsSource {
		writeCommands(&buf, items)
	} else {
		writeBody(&buf, c.cfg.Transport, c.cfg.SiteUUID, items)
	}
	res := c.do(ctx, c.url(source), buf.Bytes())
	if source == commandsSource || res.outcome == outcomeRetry || res.outcome == outcomeHalt {
		return res
	}
	res.answer = parseAnswer(res.body)
	if res.answer == nil || res.answer.Failed == 0 {
		return res
	}
	switch {
	case c.cfg.Transport == TransportWebhook && res.outcome == outcomeOK:
		res.unconfirmed = res.answer.Failed // nothing says which: counted and logged
	case res.outcome == outcomeOK, res.outcome == outcomeRejected:
		res.outcome = outcomePartial
	}
	return res
}

// do sends one request body, bounded by the configured timeout.
func (c *Client) do(ctx context.Context, target string, body []byte) result {
	res := result{bytes: len(body), payload: body}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		res.outcome, res.err = outcomeHalt, fmt.Errorf("build bento request: %w", withoutURL(err))
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
	res.location = c.redact.string(resp.Header.Get("Location"))
	res.body, err = readBody(resp)
	res.body = c.redact.bytes(res.body)
	res.duration = time.Since(start)
	if err != nil && classify(resp.StatusCode) != outcomeOK {
		res.outcome, res.err = outcomeRetry, fmt.Errorf("read bento response: %w", err)
		return res
	}
	// A 2xx whose body could not be read was still accepted: re-sending it
	// would duplicate every event in it.
	res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	res.outcome = classify(resp.StatusCode)
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
