#!/usr/bin/env bash
# Builds the Node binding (release) and runs its tests: bash bindings-node/test.sh
# Needs Node 20+, npm and rustup; installs the npm packages from package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "$0")"

echo "node $(node --version), npm $(npm --version 2>/dev/null)"
npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config' || true
test -x node_modules/.bin/napi || { echo "npm ci failed" >&2; exit 1; }

# Release build; regenerates index.js and index.d.ts, which are committed and must not change.
npm run --silent build 2>&1 | grep -v 'Unknown user config'
if ! git diff --quiet -- index.d.ts index.js 2>/dev/null; then
  echo "index.d.ts or index.js differs from the committed one: commit the regenerated files" >&2
  git --no-pager diff --stat -- index.d.ts index.js >&2
  exit 1
fi

# Every test: shared vectors, API, hostile input, example service, TypeScript declarations, README.
node --test --test-concurrency=1 test/
