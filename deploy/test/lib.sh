# shellcheck shell=bash
# Shared by scripts/test-deploy and scripts/lighthouse (sourced, bash): a Docker
# daemon, the images of deploy/docker/, and the compose stack, each started only when
# missing and stopped on exit by what started it.
#
# Docker here is Debian's docker.io and docker-compose 1.29; `/usr/bin/docker` is
# used by name because another, plugin-less client may come first on PATH.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
docker=${DOCKER:-/usr/bin/docker}
export DOCKER_BUILDKIT=1
# The stack under test has its own compose project (containers, network, volume),
# so it never touches a user's `docker-compose up` of the same file.
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-cartwheel-test}
# Its network too: a /24 of its own beside a user's stack on the default one.
export CARTWHEEL_NET=${CARTWHEEL_NET:-172.30.97}
# compose.yaml refuses to start without a service token: a fresh one per run.
SERVICE_TOKEN=${SERVICE_TOKEN:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}
export SERVICE_TOKEN
compose=(docker-compose -f "$root/compose.yaml")
dockerd_pid=
work=$(mktemp -d "${TMPDIR:-/tmp}/cartwheel-deploy.XXXXXX")

log() { printf '== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# Installs what is missing (as root on a Debian-like machine), like scripts/bench does for wrk.
#   need_packages [--no-recommends] TOOL:PACKAGE...
need_packages() {
  local missing=() tool pkg apt_opts=()
  if [ "${1:-}" = --no-recommends ]; then apt_opts=(--no-install-recommends); shift; fi
  for pair in "$@"; do
    tool=${pair%%:*}; pkg=${pair##*:}
    command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || fail "missing: ${missing[*]} (apt-get install ${missing[*]})"
  log "installing ${missing[*]}"
  # One apt at a time: scripts/test builds the images beside other installs.
  flock "${TMPDIR:-/tmp}/cartwheel-apt.lock" sh -c 'apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null' apt "${apt_opts[@]}" "${missing[@]}"
}

# Starts dockerd when no daemon answers; stop_docker stops only that one.
start_docker() {
  if "$docker" info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd (log: $work/dockerd.log)"
  dockerd >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do
    "$docker" info >/dev/null 2>&1 && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || { tail -n 20 "$work/dockerd.log" >&2; fail "dockerd exited"; }
    sleep 0.5
  done
  fail "dockerd did not answer within 30 s"
}

stop_docker() {
  [ -n "$dockerd_pid" ] || return 0
  kill "$dockerd_pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  dockerd_pid=
}

# The images (services, SPA, mail catcher, PgBouncer, emulator; Prometheus with BUILD_PROMETHEUS=1),
# built from the Dockerfiles exactly as the README says; prints the
# time each took. Base images that cannot be pulled here get local stand-ins first.
build_images() {
  local t0 target
  local prometheus_pid=
  "$root/deploy/standins/make-images"
  # Prometheus's image is Debian's package (apt, mostly waiting on the network):
  # built beside the Rust builds.
  if [ -n "${BUILD_PROMETHEUS:-}" ]; then build_prometheus_image & prometheus_pid=$!; fi
  for target in api-users api-products api-orders; do
    t0=$SECONDS
    "$docker" build -q -f "$root/deploy/docker/services.Dockerfile" --target "$target" \
      -t "cartwheel/$target:latest" "$root" >/dev/null
    log "built cartwheel/$target in $((SECONDS - t0)) s"
  done
  t0=$SECONDS
  "$docker" build -q -f "$root/deploy/docker/spa.Dockerfile" -t cartwheel/spa:latest "$root" >/dev/null
  log "built cartwheel/spa in $((SECONDS - t0)) s"
  t0=$SECONDS
  "$docker" build -q -f "$root/deploy/docker/mail.Dockerfile" -t cartwheel/mail-catcher:latest "$root" >/dev/null
  log "built cartwheel/mail-catcher in $((SECONDS - t0)) s"
  t0=$SECONDS
  "$docker" build -q -f "$root/deploy/docker/pgbouncer.Dockerfile" -t cartwheel/pgbouncer:latest "$root" >/dev/null
  log "built cartwheel/pgbouncer in $((SECONDS - t0)) s"
  t0=$SECONDS
  # pip inside the build trusts what this machine trusts (a TLS-inspecting proxy's CA).
  DOCKER_BUILDKIT=1 "$docker" build -q --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt \
    -f "$root/deploy/docker/localstripe.Dockerfile" -t cartwheel/localstripe:latest "$root" >/dev/null
  log "built cartwheel/localstripe in $((SECONDS - t0)) s"
  if [ -n "$prometheus_pid" ]; then wait "$prometheus_pid" || fail "building cartwheel/prometheus"; fi
  "$docker" image ls --format '   {{.Repository}}:{{.Tag}} {{.Size}}' 'cartwheel/*'
}

# Prometheus for compose's `monitoring` profile (scripts/soak and the alert test run
# it); docker build, not docker-compose build: with BuildKit on, compose 1.29 wants buildx.
build_prometheus_image() {
  local t0=$SECONDS
  "$docker" build -q -t cartwheel/prometheus:latest "$root/deploy/prometheus" >/dev/null
  log "built cartwheel/prometheus in $((SECONDS - t0)) s"
}

# Waits (bounded) until URL answers 200.
wait_http() { # url seconds
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}

# `docker-compose up` without building (build_images did), then waits for the shop.
stack_up() {
  "${compose[@]}" up -d --no-build >"$work/compose-up.log" 2>&1 ||
    { cat "$work/compose-up.log" >&2; "${compose[@]}" logs --tail 30 >&2 || true; fail "docker-compose up"; }
  local url
  for url in http://127.0.0.1:5001/readyz http://127.0.0.1:5002/readyz http://127.0.0.1:5003/readyz \
             http://127.0.0.1:8080/healthz http://127.0.0.1:8420/js.stripe.com/v3/; do
    wait_http "$url" 120 || { "${compose[@]}" ps >&2; "${compose[@]}" logs --tail 30 >&2; fail "$url did not answer within 120 s"; }
  done
}

stack_down() { # extra docker-compose down arguments
  "${compose[@]}" down --timeout 20 "$@" >"$work/compose-down.log" 2>&1 || { cat "$work/compose-down.log" >&2; return 1; }
}

# The host ports compose.yaml publishes must be free before it starts.
ports_free() {
  local port
  for port in 8080 5001 5002 5003 8420; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "127.0.0.1:$port is in use (scripts/run or another stack?): compose.yaml publishes it"
    fi
  done
}
