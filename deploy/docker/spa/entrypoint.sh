#!/bin/sh
# Starts the SPA's nginx after writing, from the environment, what differs between
# deployments: config.json (the service URLs the app calls) and the
# Content-Security-Policy that allows exactly those URLs.
#
#   PUBLIC_USERS_URL, PUBLIC_PRODUCTS_URL, PUBLIC_ORDERS_URL
#     where the browser reaches each service (http:// or https://, no trailing slash
#     needed); the products one is also where the catalogue's images come from.
#   PUBLIC_STRIPE_PUBLISHABLE_KEY (pk_live_... or pk_test_...), PUBLIC_STRIPE_JS_URL
#     card payments in the page (contract v1.3): the provider's publishable key, and
#     where Stripe.js comes from (default https://js.stripe.com/v3/; a local
#     emulator's http://host:port/js.stripe.com/v3/ in development). No key: the
#     page takes no cards (config.json and the CSP as without payments).
set -eu
run=/tmp/cartwheel
mkdir -p "$run" /tmp/nginx

url() { # NAME VALUE: the URL without trailing slashes, refused unless plainly http(s)
  value=$(printf '%s' "$2" | sed 's#/*$##')
  case "$value" in
    http://?*|https://?*) ;;
    *) echo "cartwheel-spa: $1 must be an http:// or https:// URL, got '$2'" >&2; exit 1 ;;
  esac
  case "$value" in
    *[!A-Za-z0-9:/._~%-]*) echo "cartwheel-spa: $1 has characters a service URL does not need: '$2'" >&2; exit 1 ;;
  esac
  printf '%s' "$value"
}
origin() { printf '%s' "$1" | sed -E 's#^(https?://[^/]+).*#\1#'; }

users=$(url PUBLIC_USERS_URL "${PUBLIC_USERS_URL:-}")
products=$(url PUBLIC_PRODUCTS_URL "${PUBLIC_PRODUCTS_URL:-}")
orders=$(url PUBLIC_ORDERS_URL "${PUBLIC_ORDERS_URL:-}")

stripe_key=${PUBLIC_STRIPE_PUBLISHABLE_KEY:-}
stripe_js=
if [ -n "$stripe_key" ]; then
  case "$stripe_key" in
    pk_*) ;;
    *) echo "cartwheel-spa: PUBLIC_STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_...), never a secret one" >&2; exit 1 ;;
  esac
  case "$stripe_key" in
    *[!A-Za-z0-9_]*) echo "cartwheel-spa: PUBLIC_STRIPE_PUBLISHABLE_KEY has characters a key does not have" >&2; exit 1 ;;
  esac
  # Stripe.js lives at a path ending in "/v3/": the slash is kept.
  stripe_js=${PUBLIC_STRIPE_JS_URL:-https://js.stripe.com/v3/}
  case "$stripe_js" in
    http://?*|https://?*) ;;
    *) echo "cartwheel-spa: PUBLIC_STRIPE_JS_URL must be an http:// or https:// URL, got '$stripe_js'" >&2; exit 1 ;;
  esac
  case "$stripe_js" in
    *[!A-Za-z0-9:/._~%-]*) echo "cartwheel-spa: PUBLIC_STRIPE_JS_URL has characters a URL does not need: '$stripe_js'" >&2; exit 1 ;;
  esac
elif [ -n "${PUBLIC_STRIPE_JS_URL:-}" ]; then
  echo "cartwheel-spa: PUBLIC_STRIPE_JS_URL without PUBLIC_STRIPE_PUBLISHABLE_KEY: no card payments" >&2
fi

if [ -n "$stripe_key" ]; then
  printf '{"users": "%s", "products": "%s", "orders": "%s", "stripe_publishable_key": "%s", "stripe_js_url": "%s"}\n' \
    "$users" "$products" "$orders" "$stripe_key" "$stripe_js" >"$run/config.json"
else
  printf '{"users": "%s", "products": "%s", "orders": "%s"}\n' "$users" "$products" "$orders" \
    >"$run/config.json"
fi

# What the page may load, frame and call for card payments: Stripe.js from
# js.stripe.com, its card field and the bank's step (3-D Secure) in frames from
# js.stripe.com and hooks.stripe.com, its calls to api.stripe.com; an emulator
# serves all three from its one origin.
pay_script='' pay_frame='' pay_connect=''
if [ -n "$stripe_js" ]; then
  stripe_origin=$(origin "$stripe_js")
  if [ "$stripe_origin" = "https://js.stripe.com" ]; then
    pay_script="https://js.stripe.com"
    pay_frame="https://js.stripe.com https://hooks.stripe.com"
    pay_connect="https://api.stripe.com"
  else
    pay_script=$stripe_origin pay_frame=$stripe_origin pay_connect=$stripe_origin
  fi
fi

# 'self' for config.json; a source ending in "/" allows every path under that URL.
# Inline scripts and styles (Trunk's loader of the wasm) by the hashes computed at
# build time; 'wasm-unsafe-eval' lets the page compile its WebAssembly.
scripts=$(cat /usr/share/cartwheel/csp/script-src 2>/dev/null || true)
styles=$(cat /usr/share/cartwheel/csp/style-src 2>/dev/null || true)
csp="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'${scripts:+ $scripts}${pay_script:+ $pay_script}; style-src 'self'${styles:+ $styles}"
csp="$csp; img-src 'self' data: $(origin "$products"); font-src 'self'"
connect="'self'"
for service in "$users/" "$products/" "$orders/"; do
  case " $connect " in *" $service "*) ;; *) connect="$connect $service" ;; esac
done
connect="$connect${pay_connect:+ $pay_connect}"
csp="$csp; connect-src $connect"
[ -z "$pay_frame" ] || csp="$csp; frame-src $pay_frame"
csp="$csp; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
printf 'add_header Content-Security-Policy "%s" always;\n' "$csp" >"$run/csp.conf"

# The document's early hints: config.json is the app's first request and the catalogue
# the second (the API with CORS, its images without: one connection of each kind).
products_origin=$(origin "$products")
links="</config.json>; rel=preload; as=fetch; crossorigin=anonymous"
links="$links, <$products_origin>; rel=preconnect; crossorigin=anonymous, <$products_origin>; rel=preconnect"
printf 'add_header Link "%s" always;\n' "$links" >"$run/links.conf"
# On the landing page, the catalogue's first page too: exactly the URL the app asks
# for first (app/src/pages/catalogue.rs, PAGE_SIZE), or the browser fetches it twice.
home="$links, <$products/api/products?limit=8&offset=0>; rel=preload; as=fetch; crossorigin=anonymous"
printf 'add_header Link "%s" always;\n' "$home" >"$run/home-links.conf"

echo "cartwheel-spa: users $users, products $products, orders $orders${stripe_js:+, Stripe.js $stripe_js}"
exec nginx -e stderr -g 'daemon off;'
