#!/bin/sh
# Starts the SPA's nginx after writing, from the environment, what differs between
# deployments: config.json (the service URLs the app calls) and the
# Content-Security-Policy that allows exactly those URLs.
#
#   PUBLIC_USERS_URL, PUBLIC_PRODUCTS_URL, PUBLIC_ORDERS_URL
#     where the browser reaches each service (http:// or https://, no trailing slash
#     needed); the products one is also where the catalogue's images come from.
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

printf '{"users": "%s", "products": "%s", "orders": "%s"}\n' "$users" "$products" "$orders" \
  >"$run/config.json"

# 'self' for config.json; a source ending in "/" allows every path under that URL.
# Inline scripts and styles (Trunk's loader of the wasm) by the hashes computed at
# build time; 'wasm-unsafe-eval' lets the page compile its WebAssembly.
scripts=$(cat /usr/share/cartwheel/csp/script-src 2>/dev/null || true)
styles=$(cat /usr/share/cartwheel/csp/style-src 2>/dev/null || true)
csp="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'${scripts:+ $scripts}; style-src 'self'${styles:+ $styles}"
csp="$csp; img-src 'self' data: $(origin "$products"); font-src 'self'"
connect="'self'"
for service in "$users/" "$products/" "$orders/"; do
  case " $connect " in *" $service "*) ;; *) connect="$connect $service" ;; esac
done
csp="$csp; connect-src $connect"
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

echo "cartwheel-spa: users $users, products $products, orders $orders"
exec nginx -e stderr -g 'daemon off;'
