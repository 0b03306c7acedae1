package bentofake_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentofake"
)

func post(t *testing.T, srv *httptest.Server, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("pk", "sk")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func events(n int, email func(i int) string) string {
	var evs []string
	for i := range n {
		evs = append(evs, fmt.Sprintf(`{"type":"t","email":%q}`, email(i)))
	}
	return `{"events":[` + strings.Join(evs, ",") + `]}`
}

// The stand-in answers as Bento's published contract says (issue 11).
func TestEventsAPIContract(t *testing.T) {
	fake := bentofake.New(bentofake.Options{SiteUUID: "s1", PublishableKey: "pk", SecretKey: "sk"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	const api = "/api/v1/batch/events?site_uuid=s1"
	ok := func(int) string { return "a@example.com" }

	status, body := post(t, srv, "/api/v1/batch/events", events(1, ok))
	require.Equal(t, 400, status, "site_uuid is a required query parameter: %s", body)
	status, _ = post(t, srv, api, `{"nope":[]}`)
	require.Equal(t, 400, status, "events missing")
	status, _ = post(t, srv, api, `{"events":{}}`)
	require.Equal(t, 400, status, "events not an array")
	status, _ = post(t, srv, api, events(1001, ok))
	require.Equal(t, 400, status, "over 1000")
	status, _ = post(t, srv, api, `{"events":[{"type":"t","email":"a@example.com"},{"type":"t"}]}`)
	require.Equal(t, 400, status, "a row without email")
	require.Empty(t, fake.Received())

	fake.RejectWhen(func(ev bentofake.ReceivedEvent) bool { return strings.HasPrefix(ev.Email, "bad") })
	status, body = post(t, srv, api, events(30, func(i int) string {
		if i%2 == 1 {
			return fmt.Sprintf("bad%d@example.com", i)
		}
		return "a@example.com"
	}))
	require.Equal(t, 200, status)
	require.True(t, strings.HasPrefix(body, `{"results":15,"failed":15,"errors":[{"index":1,"error":"invalid event"}`), body)
	status, body = post(t, srv, api, events(25, func(i int) string { return fmt.Sprintf("bad%d@example.com", i) }))
	require.Equal(t, 422, status, "all rejected")
	require.Equal(t, 20, strings.Count(body, `"index"`), "at most 20 listed")
	require.Contains(t, body, `"failed":25`)
	require.Len(t, fake.Received(), 15)
}

func TestCommandsContract(t *testing.T) {
	fake := bentofake.New(bentofake.Options{SiteUUID: "s1"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	const api = "/api/v1/fetch/commands?site_uuid=s1"
	cmds := func(n int) string {
		var cs []string
		for i := range n {
			cs = append(cs, fmt.Sprintf(`{"command":"change_email","email":"o%d@example.com","query":"n%d@example.com"}`, i, i))
		}
		return `{"command":[` + strings.Join(cs, ",") + `]}`
	}
	status, _ := post(t, srv, api, cmds(101))
	require.Equal(t, 422, status, "over 100")
	status, body := post(t, srv, api, cmds(2))
	require.Equal(t, 200, status)
	require.Equal(t, `{"results":2}`, body)
	require.Len(t, fake.Commands(), 2)

	// change_email moves the subscriber: its purchases count under the new address.
	purchase := `{"events":[{"type":"$purchase","email":"o0@example.com","details":{"unique":{"key":"k"},"value":{"amount":100,"currency":"USD"}}}]}`
	fake.Reset()
	status, _ = post(t, srv, "/api/v1/batch/events?site_uuid=s1", purchase)
	require.Equal(t, 200, status)
	status, _ = post(t, srv, api, cmds(1))
	require.Equal(t, 200, status)
	require.Equal(t, map[string]int64{"n0@example.com": 100}, fake.PurchaseTotals())
}

func TestScriptedRedirect(t *testing.T) {
	fake := bentofake.New(bentofake.Options{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.Script(bentofake.Response{Status: 307, Location: "https://elsewhere.example/x"})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/s/pos/track", strings.NewReader(`{"events":[]}`))
	require.NoError(t, err)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 307, resp.StatusCode)
	require.Equal(t, "https://elsewhere.example/x", resp.Header.Get("Location"))
}
