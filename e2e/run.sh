#!/usr/bin/env bash
# Browser tests of the SPA against the real services.
#
#   e2e/run.sh            build the SPA and the services, start a shop, run every test
#   E2E_SKIP_BUILD=1 ...  reuse dist/ and the built binaries
#   E2E_BUILD_ONLY=1 ...  build them, run nothing
#   E2E_DIST_DIR=dir ...  the SPA's build there instead of dist/ (scripts/run's)
#   e2e/run.sh tests/stock.test.mjs ...   only these test files (paths from here,
#                         e2e/ or the repo root); options (--test-name-pattern=...)
#                         go to node --test
#
# Starts the three services on free ports with temporary SQLite databases, serves
# dist/ with a generated config.json pointing at them, runs `node --test`, and
# stops everything it started on exit. Screenshots land in e2e/artifacts/.
# Outage tests start (and kill) their own services; see tests/outages.test.mjs.
# Payment tests start their own shop with payments on and a Stripe emulator
# (scripts/localstripe); see tests/payment.test.mjs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

# Arguments: node --test options, or test files (made absolute before any cd).
opts=()
files=()
for arg in "$@"; do
  case "$arg" in
    -*) opts+=("$arg") ;;
    *)
      if [ -e "$arg" ]; then files+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")")
      elif [ -e "$here/$arg" ]; then files+=("$here/$arg")
      else echo "no such test file: $arg" >&2; exit 2
      fi ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=("$here/tests/")
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
bin="$target/debug"
dist="${E2E_DIST_DIR:-$root/dist}"
export PATH="$HOME/.cargo/bin:$PATH"

if [ -z "${E2E_SKIP_BUILD:-}" ]; then
  echo "== building the SPA (trunk build --release --offline)"
  trunk build --release --offline --dist "$dist"
  echo "== building the admin pages' SPA (the same, --features admin, under /admin/)"
  trunk build --release --offline --features admin --dist "$dist/admin" --public-url /admin/
  echo "== building the services (cargo build --bins)"
  cargo build --bins
fi
"$here/wasm-size.sh" "$dist"
"$here/wasm-size.sh" "$dist/admin"
[ -z "${E2E_BUILD_ONLY:-}" ] || exit 0
for svc in users products orders; do
  [ -x "$bin/api-$svc" ] || { echo "missing $bin/api-$svc: run cargo build --bins" >&2; exit 1; }
done
# The payment tests start their own Stripe emulator: installed once (pip, into
# target/), here rather than inside a test's time limit.
"$root/scripts/localstripe" --install >/dev/null
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cartwheel-e2e-run.XXXXXX")"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    for log in "$tmp"/*.log; do
      [ -s "$log" ] && { echo "--- $log (last lines)"; tail -n 20 "$log"; }
    done
  fi
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() { # url
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1/readyz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$1 did not become ready" >&2
  return 1
}

spa_port=$(free_port)
mail_port=$(free_port)
users_port=$(free_port)
products_port=$(free_port)
orders_port=$(free_port)
spa="http://127.0.0.1:$spa_port"
users="http://127.0.0.1:$users_port"
products="http://127.0.0.1:$products_port"
orders="http://127.0.0.1:$orders_port"

cat >"$tmp/config.json" <<JSON
{"users": "$users", "products": "$products", "orders": "$orders"}
JSON

# Orders reserves stock at products with it (contract v1.2): one random value
# per run, never the services' development default.
service_token="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"

# The shop's emails (v1.3) go to a real SMTP server keeping each message as a
# file in a Maildir, which the tests read (lib/mail.mjs).
maildir="$tmp/mail"

# Every shopper of the suite registers from 127.0.0.1: past the contract's
# 20 registrations an hour per address (v1.3), which its own tests check.
start_service() { # name port
  SMTP_URL="smtp://127.0.0.1:$mail_port" PUBLIC_SHOP_URL="$spa" \
  SERVICE_TOKEN="$service_token" REGISTER_MAX_PER_ADDRESS=100000 \
  HOST=127.0.0.1 PORT="$2" DATABASE_URL="sqlite://$tmp/$1.db" CORS_ORIGINS="$spa" \
    USERS_URL="$users" PRODUCTS_URL="$products" RUST_LOG="${E2E_RUST_LOG:-warn}" \
    "$bin/api-$1" >"$tmp/$1.log" 2>&1 &
  pids+=($!)
}

echo "== starting the shop: SPA $spa, users $users, products $products, orders $orders, mail 127.0.0.1:$mail_port"
"$root/scripts/mail-catcher" "$maildir" "$mail_port" >"$tmp/mail.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$mail_port" 2>/dev/null && break
  sleep 0.1
done
start_service users "$users_port"
start_service products "$products_port"
wait_ready "$users"
wait_ready "$products"
start_service orders "$orders_port"
wait_ready "$orders"
node "$here/lib/static-server.mjs" "$dist" "$tmp/config.json" "$spa_port" >"$tmp/spa.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$spa/config.json" 2>/dev/null && break
  sleep 0.1
done

export E2E_SPA="$spa" E2E_USERS="$users" E2E_PRODUCTS="$products" E2E_ORDERS="$orders"
export E2E_USERS_DATABASE_URL="sqlite://$tmp/users.db" E2E_MAILDIR="$maildir"
export E2E_BIN_DIR="$bin" E2E_DIST_DIR="$dist"
mkdir -p "$here/artifacts"

echo "== running the browser tests"
cd "$here"
node --test --test-concurrency=1 "${opts[@]}" "${files[@]}"
