package bento_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The cdc binary carries the fake Bento (demo, bench) but no test code:
// bentofake must not pull testing or httptest in (issue 9, item 5).
func TestBinaryCarriesNoTestCode(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "list", "-deps", "github.com/pgbento/cdc/cmd/cdc").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/pgbento/cdc/internal/bento/bentofake", "the demo and bench use the fake")
	for _, banned := range []string{"testing", "net/http/httptest", "github.com/pgbento/cdc/internal/bento/bentotest"} {
		require.NotContains(t, deps, banned)
	}
}
