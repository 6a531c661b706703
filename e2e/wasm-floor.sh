#!/usr/bin/env bash
# Prints the size of the framework's floor under the SPA's WASM (e2e/wasm-floor:
# the shop's routes over Leptos 0.8, leptos_router, gloo-net, serde and the
# `shared` DTOs, one line per page), built as the SPA is (wasm-release profile,
# the wasm32 flags of .cargo/config.toml, wasm-bindgen --target web), beside the
# shop's own WASM when dist/ holds one. It asserts nothing: the difference is
# what the shop's pages cost, the part a smaller WASM has to come from.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
floor="$root/e2e/wasm-floor"
out="$root/target/wasm-floor"
cd "$root"   # .cargo/config.toml's wasm32 flags apply from here
# The shop's lockfile, so the floor has the versions the shop has.
cp Cargo.lock "$floor/Cargo.lock"
CARGO_TARGET_DIR="$root/target" cargo build --offline --quiet \
  --manifest-path "$floor/Cargo.toml" --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" \
  "$root/target/wasm32-unknown-unknown/wasm-release/wasm-floor.wasm"
echo "floor (framework, router, fetch, DTOs; no page of ours):"
"$root/e2e/wasm-size.sh" "$out"
if compgen -G "$root/dist/*.wasm" >/dev/null; then
  echo "the shop (the shopper's build in dist/):"
  "$root/e2e/wasm-size.sh" "$root/dist"
fi
