#!/usr/bin/env bash
# Runs every test of every language jornada has: bash scripts/test.sh
# Installs what it needs; works on a fresh machine with rustup, Python and Node.
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

step "rust: unit, integration, property, vector and fuzz-regression tests, doctests"
log=$(mktemp)
cargo test --workspace --locked 2>&1 | tee "$log"
passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"

step "rust: the demo runs"
cargo run --quiet --locked -p jornada --example demo > /dev/null
echo "demo ok"

step "python: the binding (bindings-python/test.sh: venv, release build, pytest)"
pylog=$(mktemp)
bash bindings-python/test.sh 2>&1 | tee "$pylog"
py_passed=$(grep -Eo '[0-9]+ passed' "$pylog" | tail -1 | awk '{print $1+0}' || true)
py_failed=$(grep -Eo '[0-9]+ failed' "$pylog" | tail -1 | awk '{print $1+0}' || true)
rm -f "$pylog"

echo
echo "rust: $passed passed, $failed failed"
echo "python: ${py_passed:-0} passed, ${py_failed:-0} failed"
echo "total: $((passed + ${py_passed:-0})) passed, $((failed + ${py_failed:-0})) failed"
