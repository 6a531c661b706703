#!/bin/sh
# Trunk post_build hook (see Trunk.toml): prints the release WASM's raw and gzipped size.
#
# No wasm-opt: Debian's binaryen (108) rewrites the externref table that
# wasm-bindgen 0.2.130 relies on, and the page then fails to start
# ("WebAssembly.Table.set(): Argument 1 is invalid"), even with -O0. Trunk's own
# wasm-opt step would download a binaryen, which fails offline. Size comes from the
# `wasm-release` cargo profile instead (opt-level z, LTO, strip).
set -eu
[ "${TRUNK_PROFILE:-}" = "release" ] || exit 0
for f in "$TRUNK_STAGING_DIR"/*.wasm; do
  [ -e "$f" ] || continue
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  awk -v n="$(basename "$f")" -v r="$raw" -v g="$gz" \
    'BEGIN { printf "WASM size: %s raw %d bytes (%.1f KiB), gzipped %d bytes (%.1f KiB)\n", n, r, r/1024, g, g/1024 }'
done
