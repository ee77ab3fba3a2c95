#!/usr/bin/env bash
# Builds the Node binding (release) and runs its tests: bash bindings-node/test.sh
# Needs Node 20+, npm and rustup; installs the npm packages from package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "$0")"

echo "node $(node --version), npm $(npm --version 2>/dev/null)"
# (overrides in package.json pin three @napi-rs/cli helpers to versions whose platform packages
# all exist in the registry, so that the lock file is complete and `npm ci` accepts it)
if ! npm ci --no-audit --no-fund --loglevel=error > npm-ci.log 2>&1; then
  cat npm-ci.log >&2
  echo "npm ci failed" >&2
  exit 1
fi
rm -f npm-ci.log

# Release build; regenerates index.js and index.d.ts, which are committed and must not change.
npm run --silent build 2>&1 | grep -v 'Unknown user config'
if ! git diff --quiet -- index.d.ts index.js 2>/dev/null; then
  echo "index.d.ts or index.js differs from the committed one: commit the regenerated files" >&2
  git --no-pager diff --stat -- index.d.ts index.js >&2
  exit 1
fi

# Every test: shared vectors, API, hostile input, example service, TypeScript declarations, README.
node --test --test-concurrency=1 test/
