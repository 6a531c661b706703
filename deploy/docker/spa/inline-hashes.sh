#!/bin/bash
# Prints the CSP sources ('sha256-...') of the inline <script> or <style> elements
# of HTML files, space-separated, each source once: Trunk's index.html starts the wasm from an
# inline module script, and a hash allows exactly that script.
#
#   inline-hashes.sh script dist/index.html [dist/admin/index.html ...]
set -euo pipefail
element=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each inline element's text, byte for byte, into its own file (elements with a src
# attribute load a file and need no hash).
awk -v el="$element" -v dir="$tmp" '
  BEGIN { RS = "</" el ">"; n = 0 }
  {
    i = index($0, "<" el)
    if (i == 0) next
    rest = substr($0, i)
    j = index(rest, ">")
    tag = substr(rest, 1, j)
    if (tag ~ /[ \t\n]src=/) next
    printf "%s", substr(rest, j + 1) > (dir "/" ++n)
  }' "$@"
sources=()
for f in "$tmp"/*; do
  [ -e "$f" ] || continue
  hex=$(sha256sum "$f" | cut -c1-64)
  # hex to bytes (printf %b with \xHH escapes), then base64, as CSP wants.
  escaped=
  for ((i = 0; i < 64; i += 2)); do escaped+="\\x${hex:i:2}"; done
  source="'sha256-$(printf '%b' "$escaped" | base64 -w0)'"
  case " ${sources[*]} " in *" $source "*) ;; *) sources+=("$source") ;; esac
done
echo "${sources[*]}"
