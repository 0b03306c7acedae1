package demo

import (
	"os"
	"testing"

	"github.com/pgbento/cdc/internal/pgtest"
)

// The stand-in's test uses pgtest's server, which Main stops afterwards.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
