#!/usr/bin/env bash
# Makes sure the Postgres server binaries (initdb, pg_ctl) are on this
# machine, installing Debian's postgresql package when they are missing and we
# may (root with apt-get). Otherwise it says exactly what is missing.
set -euo pipefail

have_server() {
  local d
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then return 0; fi
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && return 0; done
  command -v initdb >/dev/null
}

if have_server; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-postgres: installing the postgresql package (initdb not found)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  # Debian's package starts a cluster of its own; we run throwaway servers
  # on private ports and do not need it.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true; done
  fi
  have_server && exit 0
fi
echo "ensure-postgres: the PostgreSQL server binaries (initdb, pg_ctl) are missing." >&2
echo "  install them as root with: apt-get install -y postgresql" >&2
echo "  or point the tests at a server with wal_level=logical: export CDC_TEST_DSN=postgres://..." >&2
exit 1
