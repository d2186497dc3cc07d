#!/usr/bin/env bash
# Makes a headless browser available for the playground's browser test (test/e2e/playground.test.ts):
# installs Debian's chromium package when /usr/bin/chromium is missing (run as root). The test
# drives it with playwright-core against this system browser: no browser is downloaded.
# Idempotent; returns at once when Chromium is already installed.
set -euo pipefail

log() { echo "provision-chromium: $*" >&2; }

if [ -x /usr/bin/chromium ]; then
  log "Chromium is installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "/usr/bin/chromium is missing and this script needs root to install it (apt-get install chromium)"
  exit 1
fi
log "installing chromium from the distribution's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends chromium >&2
/usr/bin/chromium --version >&2
