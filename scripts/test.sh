#!/usr/bin/env bash
# Runs every test of every language jornada has: bash scripts/test.sh
# Installs what it needs; works on a fresh Debian machine with rustup, Python 3 (pip) and Node 20+
# (npm); apt-get installs the browser and the Debian wasm toolchain where needed.
# Prints one line per language and a total; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }
summary=()
status=0

# js_counts LOG: "passed failed" from node's test runner output (TAP `# pass N` or spec `ℹ pass N`).
js_counts() {
  local p f
  p=$(grep -aEo '^(#|ℹ) pass [0-9]+' "$1" | awk '{s+=$3} END {print s+0}')
  f=$(grep -aEo '^(#|ℹ) fail [0-9]+' "$1" | awk '{s+=$3} END {print s+0}')
  echo "$p $f"
}
# rust_counts LOG: "passed failed" from cargo test's result lines.
rust_counts() {
  local p f
  p=$(grep -aEo '^test result: (ok|FAILED)\. [0-9]+ passed' "$1" | awk '{s+=$4} END {print s+0}')
  f=$(grep -aEo '^test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed' "$1" | awk '{s+=$6} END {print s+0}')
  echo "$p $f"
}
# py_counts LOG: "passed failed" from pytest's last summary line.
py_counts() {
  local line p f
  line=$(grep -aE '^(=+ )?[0-9]+ (passed|failed|error).* in [0-9.]+s' "$1" | tail -n 1 || true)
  p=$(echo "$line" | grep -Eo '[0-9]+ passed' | awk '{print $1}')
  f=$(echo "$line" | grep -Eo '[0-9]+ (failed|error)' | awk '{s+=$1} END {print s+0}')
  echo "${p:-0} ${f:-0}"
}

# browser_counts LOG: the report's browser check is one test.
browser_counts() {
  if grep -aq 'browser test ok' "$1"; then echo "1 0"; else echo "0 1"; fi
}
# run_suite NAME COUNTER COMMAND...: runs a language's suite, records its counts and status.
run_suite() {
  local name=$1 counter=$2 log rc counts
  shift 2
  log=$(mktemp)
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  counts=$($counter "$log")
  rm -f "$log"
  read -r p f <<<"$counts"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  [ "$rc" -eq 0 ] || status=1
  summary+=("$name: $p passed, $f failed")
}

rust_suite() {
  set -e
  cargo --version
  for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
  done
  step "rust: format"
  cargo fmt --all -- --check
  step "rust: clippy (all targets, warnings are errors; also with the arrow feature)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  cargo clippy --workspace --all-targets --locked --features jornada/arrow -- -D warnings
  step "rust: unit, integration, property, vector and fuzz-regression tests, doctests"
  cargo test --workspace --locked
  # The Arrow import/export (feature `arrow`): its unit tests and doctests.
  cargo test -p jornada --features arrow --locked --lib arrow
  cargo test -p jornada --features arrow --locked --doc arrow
  step "rust: core without the parallel feature (analytics give the same results)"
  cargo test -p jornada --no-default-features --locked --lib
  step "rust: the demo runs"
  cargo run --quiet --locked -p jornada --example demo > /dev/null
  echo "demo ok"
}

step "rust"
run_suite rust rust_counts rust_suite
step "cli: the HTML report in headless Chromium (screenshot not blank)"
run_suite report browser_counts bash cli/test-browser.sh
step "node: build the binding (release) and run its tests"
run_suite node js_counts bash bindings-node/test.sh
step "python: the binding (venv, release build, pytest)"
run_suite python py_counts bash bindings-python/test.sh
step "wasm: build, shared vectors and JS API under Node, demo shop in headless Chromium"
run_suite wasm js_counts bash bindings-wasm/test.sh

echo
total_p=0
total_f=0
for line in "${summary[@]}"; do
  echo "$line"
  total_p=$((total_p + $(echo "$line" | awk '{print $2}')))
  total_f=$((total_f + $(echo "$line" | awk '{print $4}')))
done
echo "total: $total_p passed, $total_f failed"
exit "$status"
