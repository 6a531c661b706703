#!/usr/bin/env bash
# Checks what the SPA image serves: security headers and CSP on every answer,
# no-cache for index.html, SPA routes and config.json, immutable caching and
# precompressed brotli/gzip for the hashed assets, config.json from the environment.
#
#   deploy/test/check-spa.sh SPA_URL USERS_URL PRODUCTS_URL ORDERS_URL
#
# The payment step's keys are expected as compose.yaml gives them to the image
# (STRIPE_PUBLISHABLE_KEY, STRIPE_JS_URL, with the same defaults); set
# STRIPE_PUBLISHABLE_KEY= (empty) for an image started without them.
set -euo pipefail
spa=$1 users=$2 products=$3 orders=$4
stripe_key=${STRIPE_PUBLISHABLE_KEY-pk_test_cartwheel_compose}
stripe_js=${STRIPE_JS_URL:-http://127.0.0.1:8420/js.stripe.com/v3/}
[ -n "$stripe_key" ] || stripe_js=
stripe_origin=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$stripe_js")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fetch() { # name path [curl args...]: headers to $tmp/name.h, body to $tmp/name.b
  local name=$1 path=$2; shift 2
  curl -sS --max-time 10 -D "$tmp/$name.h" -o "$tmp/$name.b" "$@" "$spa$path"
}
header() { # name header: its value
  awk -v h="$(tr '[:upper:]' '[:lower:]' <<<"$2")" '{
    i = index($0, ": "); if (i && tolower(substr($0, 1, i - 1)) == h) { v = substr($0, i + 2); sub(/\r$/, "", v); print v }
  }' "$tmp/$1.h"
}
expect() { # description, actual, pattern (grep -E)
  if grep -qE -- "$3" <<<"$2"; then
    printf '   ok   %s\n' "$1"
  else
    printf '   FAIL %s: got "%s", wanted /%s/\n' "$1" "$2" "$3"
    failures=$((failures + 1))
  fi
}
status() { head -n 1 "$tmp/$1.h" | awk '{print $2}'; }
security() { # name: the contract's headers and the CSP
  expect "$1: X-Content-Type-Options" "$(header "$1" X-Content-Type-Options)" '^nosniff$'
  expect "$1: X-Frame-Options" "$(header "$1" X-Frame-Options)" '^DENY$'
  expect "$1: Referrer-Policy" "$(header "$1" Referrer-Policy)" '^no-referrer$'
  expect "$1: CSP present" "$(header "$1" Content-Security-Policy)" "default-src 'self'"
}

fetch index /
expect "index: 200 html" "$(status index) $(header index Content-Type)" '^200 text/html'
expect "index: no-cache" "$(header index Cache-Control)" '^no-cache$'
security index
csp=$(header index Content-Security-Policy)
expect "CSP: connect-src is 'self' (config.json), exactly the three services and Stripe's API" \
  "$(grep -oE "connect-src [^;]*" <<<"$csp")" "^connect-src 'self' $users/ $products/ $orders/${stripe_origin:+ $stripe_origin}\$"
expect "CSP: scripts by hash, wasm compile allowed, Stripe.js, nothing inline" \
  "$(grep -oE "script-src [^;]*" <<<"$csp")" "^script-src 'self' 'wasm-unsafe-eval'( 'sha256-[A-Za-z0-9+/=]+')+${stripe_origin:+ $stripe_origin}\$"
if [ -n "$stripe_origin" ]; then
  expect "CSP: frames from Stripe only (card field, the bank's step)" \
    "$(grep -oE "frame-src [^;]*" <<<"$csp")" "^frame-src $stripe_origin\$"
else
  expect "CSP: no frame-src without payments" "$(grep -c "frame-src" <<<"$csp")" '^0$'
fi
expect "CSP: images from the products service" "$(grep -oE "img-src [^;]*" <<<"$csp")" "img-src 'self' data: ${products%%/}\$"
expect "CSP: no framing" "$csp" "frame-ancestors 'none'"

hints="</config.json>; rel=preload; as=fetch; crossorigin=anonymous, <${products%%/}>; rel=preconnect; crossorigin=anonymous, <${products%%/}>; rel=preconnect"
expect "index: preloads config.json and the catalogue's first page, preconnects to the products service" \
  "$(header index Link)" \
  "^$hints, <${products%%/}/api/products\\?limit=8&offset=0>; rel=preload; as=fetch; crossorigin=anonymous\$"

fetch route /product/some-product
expect "SPA route: index.html, no-cache" "$(status route) $(header route Cache-Control)" '^200 no-cache$'
expect "SPA route: the same hints but the catalogue's" "$(header route Link)" "^$hints\$"
if cmp -s "$tmp/index.b" "$tmp/route.b"; then
  echo "   ok   SPA route: same document as /"
else
  echo "   FAIL SPA route: not index.html"; failures=$((failures + 1))
fi

# The admin pages: a build of their own under /admin/ (app/src/pages/admin).
fetch admin /admin/orders/12
expect "admin route: the admin build's index.html, no-cache" "$(status admin) $(header admin Cache-Control)" '^200 no-cache$'
security admin
admin_wasm=$(grep -oE '/admin/[A-Za-z0-9_-]+_bg\.wasm' "$tmp/admin.b" | head -n 1)
expect "admin route: loads the admin build's wasm, under /admin/" "$admin_wasm" '^/admin/.+-[0-9a-f]+_bg\.wasm$'
fetch admin_root /admin
expect "/admin: the admin build too" "$(status admin_root) $(cmp -s "$tmp/admin.b" "$tmp/admin_root.b" && echo same)" '^200 same$'
fetch admin_wasm "$admin_wasm" -H 'Accept-Encoding: br, gzip'
expect "admin wasm: brotli, immutable" "$(status admin_wasm) $(header admin_wasm Content-Encoding) $(header admin_wasm Cache-Control)" \
  '^200 br public, max-age=31536000, immutable$'

fetch config /config.json
expect "config.json: no-cache" "$(header config Cache-Control)" '^no-cache$'
security config
stripe_json=
[ -z "$stripe_key" ] || stripe_json=",\"stripe_publishable_key\":\"$stripe_key\",\"stripe_js_url\":\"$stripe_js\""
expect "config.json: the service URLs (and the payment keys) from the environment" "$(tr -d ' \n' <"$tmp/config.b")" \
  "^\\{\"users\":\"$users\",\"products\":\"$products\",\"orders\":\"$orders\"$stripe_json\\}\$"

wasm=$(grep -oE '/[A-Za-z0-9_-]+_bg\.wasm' "$tmp/index.b" | head -n 1)
js=$(grep -oE '/[A-Za-z0-9_-]+-[0-9a-f]{8,20}\.js' "$tmp/index.b" | head -n 1)
expect "index.html names a hashed wasm and js" "$wasm $js" '-[0-9a-f]+_bg\.wasm /.+-[0-9a-f]+\.js$'
fetch wasm_br "$wasm" -H 'Accept-Encoding: br, gzip'
expect "wasm: brotli, precompressed" "$(status wasm_br) $(header wasm_br Content-Encoding) $(header wasm_br Content-Type)" '^200 br application/wasm$'
expect "wasm: immutable for a year" "$(header wasm_br Cache-Control)" '^public, max-age=31536000, immutable$'
security wasm_br
fetch wasm_gz "$wasm" -H 'Accept-Encoding: gzip'
expect "wasm: gzip for clients without brotli" "$(header wasm_gz Content-Encoding)" '^gzip$'
fetch wasm_raw "$wasm"
raw=$(wc -c <"$tmp/wasm_raw.b") br=$(wc -c <"$tmp/wasm_br.b") gz=$(wc -c <"$tmp/wasm_gz.b")
echo "   wasm bytes on the wire: $raw raw, $gz gzip, $br brotli"
fetch js "$js" -H 'Accept-Encoding: br'
expect "js: brotli, immutable" "$(header js Content-Encoding) $(header js Cache-Control)" '^br public, max-age=31536000, immutable$'
fetch missing /app-0123456789abcdef_bg.wasm
expect "a missing hashed asset is a 404, not index.html" "$(status missing)" '^404$'
fetch health /healthz
expect "/healthz" "$(status health)" '^200$'

[ "$failures" -eq 0 ] || { echo "check-spa: $failures failed" >&2; exit 1; }
