#!/usr/bin/env bash
# Builds the jornada WebAssembly package into bindings-wasm/pkg/:
#   pkg/web/      ES module for browsers and bundlers (`await init()` loads the .wasm)
#   pkg/nodejs/   the Node.js build (loads the .wasm synchronously)
#   pkg/node.mjs  ES module entry for Node with the same exports as the web build
#   pkg/package.json  the `jornada-wasm` package (exports map: node vs browser), with TypeScript types
#
#   bash bindings-wasm/build.sh
#
# Installs what is missing. The wasm32 standard library: rustup's (`rustup target add`) where it
# can be downloaded, else Debian's Rust with its std sources built with -Zbuild-std (see
# shared/toolchain/wasm.md). Environment:
#   JORNADA_WASM_TOOLCHAIN=rustup|debian  use this toolchain (default: rustup when it works)
#   JORNADA_WASM_IMMEDIATE_ABORT=0        Debian toolchain only: keep std's panic messages
#                                         (default: std built with panic_immediate_abort, smaller)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
cd "$ROOT"

PROFILE=wasm-release
TARGET=wasm32-unknown-unknown
PKG="$HERE/pkg"
say() { printf '== wasm: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() { # Debian packages, only those missing
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 1. compile to wasm32 -------------------------------------------------------------------
toolchain=${JORNADA_WASM_TOOLCHAIN:-}
if [ -z "$toolchain" ]; then
  if rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
    || timeout 120 rustup target add "$TARGET" >/dev/null 2>&1; then
    toolchain=rustup
  else
    say "rustup cannot add $TARGET here; using Debian's Rust with -Zbuild-std"
    toolchain=debian
  fi
fi
if [ "$toolchain" = rustup ]; then
  say "cargo build ($PROFILE, rustup's $TARGET std)"
  cargo build --locked --profile "$PROFILE" --target "$TARGET" -p jornada-wasm
  wasm="target/$TARGET/$PROFILE/jornada_wasm.wasm"
else
  apt_install rustc-web cargo-web rust-web-src lld
  rustflags=
  if [ "${JORNADA_WASM_IMMEDIATE_ABORT:-1}" != 0 ]; then
    # std rebuilt anyway: drop its panic formatting too (a panic is a trap either way).
    rustflags="-Zunstable-options -Cpanic=immediate-abort"
  fi
  say "cargo build ($PROFILE, Debian's Rust, -Zbuild-std $rustflags)"
  # Debian's toolchain lives in /usr/bin; rustup's stays first on PATH for everything else.
  # rust-lld in that package points at a missing lld version: link with wasm-ld.
  # A separate target directory keeps the host build's artifacts from being rebuilt.
  RUSTFLAGS="$rustflags" RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_DIR=target/wasm-debian \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
    /usr/bin/cargo build --locked --profile "$PROFILE" --target "$TARGET" \
    -Zbuild-std=std,panic_abort -p jornada-wasm
  wasm="target/wasm-debian/$TARGET/$PROFILE/jornada_wasm.wasm"
fi

# --- 2. wasm-bindgen, at exactly the version in Cargo.lock -----------------------------------
version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$version" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  say "cargo install wasm-bindgen-cli $version (a few minutes)"
  # --locked first; if the CLI's own lock file names a version the registry no longer serves,
  # let cargo resolve its dependencies afresh.
  cargo install --quiet wasm-bindgen-cli --version "$version" --locked \
    || cargo install --quiet wasm-bindgen-cli --version "$version"
fi

rm -rf "$PKG"
mkdir -p "$PKG"
say "wasm-bindgen $version: web and nodejs"
for target in web nodejs; do
  wasm-bindgen --target "$target" --remove-name-section --remove-producers-section \
    --out-dir "$PKG/$target" "$wasm"
done

# --- 3. no wasm-opt -----------------------------------------------------------------------------
# Measured (size-steps.sh, README "Budgets"): wasm-opt -Oz makes this module smaller but its
# gzipped size larger (binaryen 108 from Debian and 132 from npm alike), and Debian's binaryen 108
# rewrites wasm-bindgen's externref table so that the module no longer instantiates. So the
# bundle is LLVM's output (opt-level "z", LTO, one codegen unit) as wasm-bindgen leaves it.

# --- 4. the package ---------------------------------------------------------------------------
cp "$HERE"/npm/package.json "$HERE"/npm/node.mjs "$HERE"/npm/node.d.mts "$PKG"/
# The nodejs build is CommonJS inside a package of ES modules.
printf '{ "type": "commonjs" }\n' > "$PKG/nodejs/package.json"
rm -f "$PKG"/*/.gitignore

size=$(wc -c < "$PKG/web/jornada_wasm_bg.wasm")
gz=$(gzip -9 -c "$PKG/web/jornada_wasm_bg.wasm" | wc -c)
say "built $PKG ($toolchain toolchain): jornada_wasm_bg.wasm $size bytes, $gz bytes gzipped (budget 300 KB = 307200 bytes)"
