#!/usr/bin/env bash
# The compose balancer's routing, without Docker: deploy/compose/lb.conf in a local
# nginx, in front of stand-in services that echo what reached them. The published
# ports answer 404 for /api/stock/* and /metrics (however spelt) and drop a client's
# traceparent; the internal ports pass both. Installs nginx-light when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx_bin" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  if [ -f "$tmp/nginx.pid" ]; then kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A stand-in service: answers 200 with the path and the traceparent it received.
cat >"$tmp/echo.py" <<'PY'
import http.server, json, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"path": self.path, "traceparent": self.headers.get("traceparent")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY

declare -A backend public internal
for service in users products orders; do
  backend[$service]=$(free_port)
  public[$service]=$(free_port)
  python3 "$tmp/echo.py" "${backend[$service]}" &
  pids+=($!)
done
internal[users]=$(free_port)
internal[products]=$(free_port)

# lb.conf with the services' names and the ports made local (15001 before 5001:
# \b keeps 5001 from matching inside 15001).
sed -E \
  -e "s/api-users:5001/127.0.0.1:${backend[users]}/; s/api-products:5002/127.0.0.1:${backend[products]}/; s/api-orders:5003/127.0.0.1:${backend[orders]}/" \
  -e "s/\b15001\b/${internal[users]}/g; s/\b15002\b/${internal[products]}/g" \
  -e "s/listen 5001;/listen 127.0.0.1:${public[users]};/; s/listen 5002;/listen 127.0.0.1:${public[products]};/; s/listen 5003;/listen 127.0.0.1:${public[orders]};/" \
  -e "s/listen ${internal[users]};/listen 127.0.0.1:${internal[users]};/; s/listen ${internal[products]};/listen 127.0.0.1:${internal[products]};/" \
  deploy/compose/lb.conf >"$tmp/lb.conf"
mkdir -p "$tmp/temp"
cat >"$tmp/nginx.conf" <<NGINX
daemon on;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/temp/body;
    proxy_temp_path $tmp/temp/proxy;
    fastcgi_temp_path $tmp/temp/fastcgi;
    uwsgi_temp_path $tmp/temp/uwsgi;
    scgi_temp_path $tmp/temp/scgi;
    include $tmp/lb.conf;
}
NGINX
"$nginx_bin" -t -q -c "$tmp/nginx.conf" -p "$tmp"
"$nginx_bin" -c "$tmp/nginx.conf" -p "$tmp"

for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:${public[products]}/api/products" && break
  sleep 0.1
done

failures=0
expect() { # status url [curl arguments...]: the answer's status must be status
  local want=$1 url=$2; shift 2
  local got
  got=$(curl -s -o "$tmp/body" -w '%{http_code}' --path-as-is "$@" "$url")
  if [ "$got" != "$want" ]; then
    echo "   $url: $got, want $want ($(cat "$tmp/body"))" >&2
    failures=$((failures + 1))
  fi
}
P=http://127.0.0.1:${public[products]}
for path in /api/stock/reserve /api/stock/release //api/stock/reserve /api/%73tock/reserve \
  /api/./stock/reserve /api/stock /metrics /metrics/; do
  expect 404 "$P$path" -X POST --data '{}'
done
grep -q '"error":"not_found"' "$tmp/body" || { echo "   the 404 is not the JSON error shape" >&2; failures=$((failures + 1)); }
expect 404 "http://127.0.0.1:${public[users]}/metrics"
expect 404 "http://127.0.0.1:${public[orders]}/metrics"
expect 200 "$P/api/products"
expect 200 "http://127.0.0.1:${public[orders]}/api/order"
expect 200 "http://127.0.0.1:${internal[products]}/api/stock/reserve" -X POST --data '{}'
expect 200 "http://127.0.0.1:${internal[users]}/api/user"

trace=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
seen=$(curl -s -H "traceparent: $trace" "$P/api/products")
grep -q '"traceparent": null' <<<"$seen" || { echo "   public port passed a traceparent: $seen" >&2; failures=$((failures + 1)); }
seen=$(curl -s -H "traceparent: $trace" "http://127.0.0.1:${internal[products]}/api/products")
grep -q "\"traceparent\": \"$trace\"" <<<"$seen" || { echo "   internal port dropped the traceparent: $seen" >&2; failures=$((failures + 1)); }

[ "$failures" = 0 ] || { echo "check-lb: $failures failures" >&2; exit 1; }
echo "   lb.conf: /api/stock/* and /metrics 404 on the published ports, routed on the internal ones; traceparent passed internally only"
