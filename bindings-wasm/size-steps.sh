#!/usr/bin/env bash
# Measures the .wasm size after each optimisation step (the figures in bindings-wasm/README.md):
#   bash bindings-wasm/size-steps.sh
# Each step rebuilds the crate with the `wasm-release` profile overridden through Cargo's
# CARGO_PROFILE_* variables, runs wasm-bindgen (web target) and, from its step on, wasm-opt.
# Needs what build.sh installs (run it once first) and binaryen (apt-get install binaryen).
# Takes a few minutes per step on 2 cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$HERE")"
TARGET=wasm32-unknown-unknown
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

measure() { # name, wasm file, wasm-opt yes|no
  wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$out/pkg" "$2"
  local f="$out/pkg/jornada_wasm_bg.wasm"
  if [ "$3" = yes ]; then
    wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext \
      --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types \
      --enable-multivalue "$f" -o "$f.opt" && mv "$f.opt" "$f"
  fi
  printf '| %s | %s | %s |\n' "$1" "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)" | tee -a "$out/table"
}

rustup_build() { # name, opt-level, lto, codegen-units, wasm-opt
  CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=$2 CARGO_PROFILE_WASM_RELEASE_LTO=$3 \
    CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS=$4 \
    cargo build --quiet --locked --profile wasm-release --target $TARGET -p jornada-wasm
  measure "$1" "target/$TARGET/wasm-release/jornada_wasm.wasm" "$5"
}

rustup_build "release settings (opt-level 3, no LTO, 16 codegen units, no debug info)" 3 false 16 no
rustup_build "opt-level \"s\"" s false 16 no
rustup_build "opt-level \"z\"" z false 16 no
rustup_build "\"z\" + LTO" z true 16 no
rustup_build "\"z\" + LTO + codegen-units=1 (wasm-release profile; build.sh, rustup toolchain)" z true 1 no
rustup_build "wasm-release + wasm-opt -Oz (not used: see build.sh)" z true 1 yes
if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
    CARGO_TARGET_DIR=target/wasm-debian CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
    /usr/bin/cargo build --quiet --locked --profile wasm-release --target $TARGET \
    -Zbuild-std=std,panic_abort -p jornada-wasm
  measure "wasm-release, std rebuilt with panic=immediate-abort (build.sh, Debian toolchain)" \
    "target/wasm-debian/$TARGET/wasm-release/jornada_wasm.wasm" no
fi
echo
echo "| step | .wasm bytes | gzip -9 bytes |"
echo "| --- | --- | --- |"
cat "$out/table"
