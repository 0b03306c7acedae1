package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestYAMLTagExitsTwoWithItsLine (issue 15.11): a YAML tag used to panic
// inside the YAML library; it is a config error like any other.
func TestYAMLTagExitsTwoWithItsLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tag.yaml")
	require.NoError(t, os.WriteFile(path, []byte("source:\n  dsn: postgres://localhost/db\nrules:\n  - name: a\n    table: orders\n    on: !x\n"), 0o600))
	for _, cmd := range []string{"check", "run"} {
		res := runCLI(t, cmd, "--config", path)
		require.Equal(t, 2, res.Code, res.String())
		require.Contains(t, res.Stderr, path+":6: YAML tags such as !x are not supported", res.String())
		require.NotContains(t, res.Stderr, "panic")
	}
}
