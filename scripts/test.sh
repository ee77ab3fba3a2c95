#!/usr/bin/env bash
# Runs every test of every language jornada has: bash scripts/test.sh
# Installs what it needs; works on a fresh machine with rustup, Python and Node (20+, with npm).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
cargo --version
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

step "rust: format"
cargo fmt --all -- --check

step "rust: clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --locked --features jornada/arrow -- -D warnings

step "rust: unit, integration, property, vector and fuzz-regression tests, doctests"
log=$(mktemp)
cargo test --workspace --locked 2>&1 | tee "$log"
# The Arrow import/export (feature `arrow`): its unit tests and doctests.
cargo test -p jornada --features arrow --locked --lib arrow 2>&1 | tee -a "$log"
cargo test -p jornada --features arrow --locked --doc arrow 2>&1 | tee -a "$log"
passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"

step "rust: the demo runs"
cargo run --quiet --locked -p jornada --example demo > /dev/null
echo "demo ok"

step "cli: the HTML report in headless Chromium (screenshot not blank)"
bash cli/test-browser.sh

step "node: build the binding (release) and run its tests"
node_log=$(mktemp)
set +e
bash bindings-node/test.sh 2>&1 | tee "$node_log"
node_rc=${PIPESTATUS[0]}
set -e
node_passed=$(grep -Eo '^# pass [0-9]+' "$node_log" | awk '{s+=$3} END {print s+0}')
node_failed=$(grep -Eo '^# fail [0-9]+' "$node_log" | awk '{s+=$3} END {print s+0}')
rm -f "$node_log"
if [ "$node_rc" -ne 0 ] && [ "$node_failed" -eq 0 ]; then node_failed=1; fi

echo
echo "rust: $passed passed, $failed failed"
echo "node: $node_passed passed, $node_failed failed"
echo "total: $((passed + node_passed)) passed, $((failed + node_failed)) failed"
[ "$node_rc" -eq 0 ]
