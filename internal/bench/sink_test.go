package bench

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/bento/bentofake"
)

// The sink forgets what it accepted after each request, but not how to
// answer: a fault (an outage, a slow Bento) holds for every request until
// it is cleared.
func TestSinkKeepsItsFaultAcrossRequests(t *testing.T) {
	s, err := startSink(false, 0)
	require.NoError(t, err)
	defer s.close()
	s.fake.SetFault(&bentofake.Response{Status: http.StatusServiceUnavailable})
	post := func() int {
		resp, err := http.Post(s.url+"/anything", "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusServiceUnavailable, post())
	require.Equal(t, http.StatusServiceUnavailable, post(), "the second request is refused too")
	s.fake.SetFault(nil)
	require.NotEqual(t, http.StatusServiceUnavailable, post())
}
