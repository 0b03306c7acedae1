#!/usr/bin/env bash
# The demo: installs Postgres server binaries if missing, then runs
# `cdc demo`: a throwaway Postgres, a local stand-in for Bento, the example
# schema and rules, and a stream of sample orders. Ctrl-C cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/ensure-postgres.sh
exec go run ./cmd/cdc demo "$@"
