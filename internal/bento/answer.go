package bento

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// outcome classifies Bento's answer; classify and parseAnswer decide it.
type outcome int

const (
	outcomeOK       outcome = iota + 1 // 2xx: delivered
	outcomeRetry                       // 408, 429, 5xx, timeouts, connection errors
	outcomeTooLarge                    // 413: split the batch
	outcomeRejected                    // 400, 422 without a list of failed events: isolate bad events
	outcomePartial                     // Events API "failed" > 0 (200, or 422 when all failed)
	outcomeHalt                        // 3xx, 401, 403, 404, other 4xx: the config is wrong
)

func (o outcome) String() string {
	return [...]string{"", "ok", "retry", "too_large", "rejected", "partial", "halt"}[o]
}

// result is what one request produced.
type result struct {
	outcome     outcome
	status      int // 0 when no response arrived
	err         error
	retryAfter  time.Duration
	location    string        // Location header (redirects), secrets redacted
	body        []byte        // response body, up to maxResponseRead, secrets redacted
	answer      *eventsAnswer // the body as an Events API answer; nil when it is not one
	unconfirmed int           // webhook 2xx reporting failed events it does not identify
	bytes       int           // request body size
	payload     []byte        // request body, for debug logs
	duration    time.Duration
}

// eventsAnswer is the Events API's answer: accepted and failed counts, and
// the failed events by index in the request (Bento lists at most 20).
type eventsAnswer struct {
	Results int          `json:"results"`
	Failed  int          `json:"failed"`
	Errors  []eventError `json:"errors"`
}

type eventError struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

// parseAnswer reads {"results":A,"failed":F,"errors":[...]}; nil when the
// body is not such an answer. An answer that does not parse counts as
// success on a 2xx: the request was accepted, and re-sending it would
// duplicate events.
func parseAnswer(body []byte) *eventsAnswer {
	var a struct {
		eventsAnswer
		Failed *int `json:"failed"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Failed == nil {
		return nil
	}
	a.eventsAnswer.Failed = *a.Failed
	return &a.eventsAnswer
}

// listed maps the indexes of a batch of n that Bento named as failed to its
// reasons; indexes outside the batch are ignored.
func (a *eventsAnswer) listed(n int) (reasons map[int]string, last int) {
	reasons, last = map[int]string{}, -1
	for _, e := range a.Errors {
		if e.Index < 0 || e.Index >= n {
			continue
		}
		reasons[e.Index] = e.Error
		last = max(last, e.Index)
	}
	return reasons, last
}

// names reports whether the answer names a failed event of a batch of n.
func (a *eventsAnswer) names(n int) bool {
	reasons, _ := a.listed(n)
	return len(reasons) > 0
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
	case r.outcome == outcomePartial && r.status/100 == 2:
		return fmt.Sprintf("bento reported failed events (HTTP %d)", r.status)
	case r.status/100 == 3:
		return fmt.Sprintf("bento answered HTTP %d redirecting to %q", r.status, r.location)
	default:
		return fmt.Sprintf("bento answered HTTP %d", r.status)
	}
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
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return outcomeRejected
	default: // 1xx, 3xx (never followed), 401, 403, 404, 405, 406, 410, 415 ...: the request or config is wrong
		return outcomeHalt
	}
}
