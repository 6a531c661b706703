#!/usr/bin/env bash
# Builds the shopper's SPA split per page (the app's `split` feature,
# app/src/pages/split.rs) and prints what a first load would fetch, the main
# module, against what each page's first visit adds. It asserts nothing and
# ships nothing: the SPA is still built whole by Trunk, which has no step
# between `cargo build` and wasm-bindgen for the splitter.
#
# The steps a split build takes: link with relocations (`--emit-relocs`, names
# kept for the splitter), cut at the split points (`wasm-split-cli`, crates.io
# `wasm_split_cli_support --features build-binary`, installed here when
# missing), then wasm-bindgen on the main module with the linker's exports kept.
# Its own target dir: other link flags would rebuild every crate of target/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/target/wasm-split"
cd "$root"
if ! command -v wasm-split-cli >/dev/null; then
  cargo install --locked wasm_split_cli_support --version 0.2.4 --features build-binary
fi
CARGO_TARGET_DIR="$root/target/split" cargo build --offline --quiet -p app \
  --target wasm32-unknown-unknown --profile wasm-release --features split \
  --config 'profile.wasm-release.strip=false' \
  --config 'target.wasm32-unknown-unknown.rustflags=["-C", "link-arg=--emit-relocs"]'
rm -rf "$out"
wasm-split-cli "$root/target/split/wasm32-unknown-unknown/wasm-release/app.wasm" \
  "$out/split" --out-name app --target web >/dev/null
wasm-bindgen --target web --keep-lld-exports --remove-name-section --remove-producers-section \
  --out-dir "$out/pkg" "$out/split/app.wasm"
echo "first load, the main module (catalogue and everything every page shares):"
"$root/e2e/wasm-size.sh" "$out/pkg"
# The split-off modules keep the function names the splitter needed; what a
# browser would be sent has none, so they are measured without custom sections.
python3 - "$out/split" <<'PY'
import gzip, pathlib, sys

def without_custom_sections(b):
    out, i = bytearray(b[:8]), 8
    while i < len(b):
        start, sid = i, b[i]
        i += 1
        n = shift = 0
        while True:
            x = b[i]; i += 1
            n |= (x & 0x7F) << shift; shift += 7
            if x < 0x80:
                break
        i += n
        if sid != 0:
            out += b[start:i]
    return bytes(out)

pages, chunks = [], []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.wasm")):
    if f.name == "app.wasm":
        continue
    body = without_custom_sections(f.read_bytes())
    size = (len(body), len(gzip.compress(body, 9)))
    (pages if f.name.startswith("split_") else chunks).append((f.name, size))
print("each page's own code, fetched on its first visit (raw, gzipped):")
for name, (raw, gz) in pages:
    print(f"  {name}: {raw} bytes, {gz / 1024:.1f} KiB gzipped")
raw = sum(s[0] for _, s in chunks); gz = sum(s[1] for _, s in chunks)
print(f"code shared by some pages, {len(chunks)} chunks fetched with the first page needing each: "
      f"{raw} bytes, {gz / 1024:.1f} KiB gzipped")
PY
if compgen -G "$root/dist/*.wasm" >/dev/null; then
  echo "the shipped, whole WASM (dist/):"
  "$root/e2e/wasm-size.sh" "$root/dist"
fi
