#!/usr/bin/env bash
# Makes sure a headless browser for the status page test is on this machine,
# installing Debian's chromium package when it is missing and we may (root
# with apt-get). Otherwise it says exactly what is missing. The test finds
# the browser through CDC_TEST_CHROMIUM or on PATH (chromium,
# chromium-browser, google-chrome); under CI=true a missing browser fails it.
set -euo pipefail

have_browser() {
  [ -n "${CDC_TEST_CHROMIUM:-}" ] && [ -x "$CDC_TEST_CHROMIUM" ] && return 0
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null
}

if have_browser; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing the chromium package (no headless browser found)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >&2
  have_browser && exit 0
fi
echo "ensure-chromium: no headless browser (chromium) for the status page test." >&2
echo "  install it as root with: apt-get install -y chromium" >&2
echo "  or point the test at one: export CDC_TEST_CHROMIUM=/path/to/chrome" >&2
exit 1
