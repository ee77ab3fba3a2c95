#!/usr/bin/env bash
# Browser test of the HTML report: renders `jornada demo`'s report in headless Chromium, takes a
# screenshot and checks it is not blank. Installs Chromium (Debian package) when missing.
# Usage: bash cli/test-browser.sh [screenshot.png]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update
  apt-get install -y chromium
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shot=${1:-$work/report.png}

cargo run --quiet --locked -p jornada-cli -- demo --customers 3000 --html "$work/report.html" > /dev/null

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1200,2400 \
  --screenshot="$shot" "file://$work/report.html" > "$work/chromium.log" 2>&1 || {
  cat "$work/chromium.log"; echo "chromium failed"; exit 1; }

# Not blank: the decoded image has many distinct colours (a blank page has one or two).
python3 - "$shot" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h = struct.unpack(">II", body[:8])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = len(raw) // h
# Rows filtered with type 0 or 1 keep enough of the pixels to count colours roughly.
colours = set()
for y in range(0, h, 7):
    row = raw[y * stride + 1:(y + 1) * stride]
    colours.update(row[i:i + 3] for i in range(0, len(row) - 3, 3 * 5))
print(f"screenshot {w}x{h}, {len(colours)} distinct pixel values sampled")
assert w >= 1000 and h >= 1000, "screenshot too small"
assert len(colours) > 50, "the screenshot looks blank"
PY
echo "browser test ok: $shot"
