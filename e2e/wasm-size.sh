#!/usr/bin/env bash
# Prints the raw and gzipped size of the SPA's WASM in dist/ (or the dir given):
# the shopper's build; dist/admin/ holds the admin's (app/src/pages/admin).
set -euo pipefail
dir="${1:-$(cd "$(dirname "$0")/.." && pwd)/dist}"
shopt -s nullglob
files=("$dir"/*.wasm)
if [ ${#files[@]} -eq 0 ]; then
  echo "no .wasm in $dir: run 'trunk build --release --offline' first" >&2
  exit 1
fi
for f in "${files[@]}"; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  awk -v n="$f" -v r="$raw" -v g="$gz" 'BEGIN { printf "%s: raw %d bytes (%.1f KiB), gzipped %d bytes (%.1f KiB)\n", n, r, r/1024, g, g/1024 }'
done
