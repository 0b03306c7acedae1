package demo

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgbento/cdc/internal/pglocal"
)

// TestDemoRunsAndTotalsAgree runs the demo as a user would (its own
// Postgres, stand-in, rules and load) for a few seconds.
func TestDemoRunsAndTotalsAgree(t *testing.T) {
	if _, err := pglocal.FindBindir(); err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	var out bytes.Buffer
	err := Run(context.Background(), Options{Out: &out, Duration: 8 * time.Second, Refresh: time.Second, Rate: 30})
	require.NoError(t, err, out.String())
	s := out.String()
	require.Contains(t, s, "events delivered, by rule:")
	require.Regexp(t, regexp.MustCompile(`purchase_on_paid\s+[1-9]`), s)
	require.Regexp(t, regexp.MustCompile(`all [1-9]\d* customers' purchase totals at the stand-in equal the database's`), s)
}
