#!/usr/bin/env bash
# The jornada demo on bundled sample data: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# 1. The engine, live: a shop's bundled touchpoints (core/examples/data/shop.jsonl) through the
#    `ecommerce` model, with the actions it triggers.
cargo run --release --quiet --locked -p jornada --example demo
# 2. The analyses: a simulated shop (20,000 customers) replayed, summarised, and an HTML report
#    written to jornada-report.html.
cargo run --release --quiet --locked -p jornada-cli -- demo --html jornada-report.html
