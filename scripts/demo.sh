#!/usr/bin/env bash
# The jornada demo on bundled sample data: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet --locked -p jornada --example demo
