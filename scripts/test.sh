#!/usr/bin/env bash
# The full test suite: installs Postgres server binaries and a headless
# chromium (for the status page test) if missing, then vet, formatting, and
# every test (race detector on) against real throwaway Postgres servers.
# Under CI=true a missing Postgres or browser fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if [ -z "${CDC_TEST_DSN:-}" ]; then scripts/ensure-postgres.sh; fi
# Without a browser only the status page's browser test skips, except in CI.
scripts/ensure-chromium.sh || [ "${CI:-}" != true ]
unformatted="$(gofmt -l cmd internal migrations examples e2e deploy 2>/dev/null || true)"
if [ -n "$unformatted" ]; then echo "gofmt needed on: $unformatted" >&2; exit 1; fi
go vet ./...
go test -race -count=1 -timeout 25m ./... "$@"
