#!/usr/bin/env bash
# The web UI's browser tests: installs Debian's chromium when it is missing, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "test:browser: installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
exec npx vitest run --config vitest.browser.config.ts "$@"
