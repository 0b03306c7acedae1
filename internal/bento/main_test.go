package bento_test

import (
	"os"
	"testing"

	"github.com/pgbento/cdc/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
