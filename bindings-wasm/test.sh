#!/usr/bin/env bash
# Builds the WebAssembly package and runs its tests: the shared vectors and the JS API under
# Node, then the demo shop and the score() bench in headless Chromium.
#   bash bindings-wasm/test.sh
# From a fresh Debian machine with rustup, Node 20 and apt-get: installs what is missing (Debian
# packages, wasm-bindgen-cli, npm packages from package-lock.json); non-zero exit on failure.
# Prints "wasm: N passed, M failed" last.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
say() { printf '== wasm: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in chromium; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash "$HERE/build.sh"

say "npm ci"
npm ci --no-audit --no-fund --loglevel=error

say "node --test: vectors, API, README quickstart, browser"
log=$(mktemp)
status=0
node --test --test-reporter=spec tests/vectors.test.mjs tests/api.test.mjs tests/readme.test.mjs tests/browser.test.mjs 2>&1 | tee "$log" || status=$?
passed=$(grep -aEo '^ℹ pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
failed=$(grep -aEo '^ℹ fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
rm -f "$log"
echo
echo "wasm: $passed passed, $failed failed"
exit "$status"
