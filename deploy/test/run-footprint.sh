#!/usr/bin/env bash
# The footprint of `scripts/run` (the shop on one machine without containers): its
# processes (the three services, Trunk's server, the payment emulator, the mail
# catcher) at steady state under the load generator's default rate (10 shoppers) must
# stay within RUN_MEMORY_BUDGET_MIB (256) of resident memory in all, at every sample;
# CPU is printed, not gated. The services are the release binaries of the images
# scripts/test-deploy has just built (taken out with `docker cp`: the same build, and
# no second release build in CI; RUN_BIN), on SQLite in a temporary folder, on
# scripts/run's own ports (8080, 5001-5003, 8420, 1025: they must be free).
#
#   deploy/test/run-footprint.sh            # ~2 minutes
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
budget=${RUN_MEMORY_BUDGET_MIB:-256}
seconds=${RUN_FOOTPRINT_SECONDS:-75}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cartwheel-run.XXXXXX")
run_pid=
cleanup() {
  local status=$?
  if [ -n "$run_pid" ]; then
    kill -TERM "$run_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.25; done
  fi
  [ $status -eq 0 ] || tail -n 20 "$tmp/run.log" >&2 || true
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT
for port in 8080 5001 5002 5003 8420 1025; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "FAILED: 127.0.0.1:$port is in use: scripts/run needs it" >&2; exit 1; fi
done

docker=${DOCKER:-/usr/bin/docker}
mkdir -p "$tmp/bin"
for svc in api-users api-products api-orders; do
  cid=$("$docker" create "cartwheel/$svc:latest")
  "$docker" cp "$cid:/usr/local/bin/$svc" "$tmp/bin/$svc"
  "$docker" rm "$cid" >/dev/null
done
RUN_BIN="$tmp/bin" RUN_DATA="$tmp/data" scripts/run >"$tmp/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 600); do
  grep -q "Cartwheel is running" "$tmp/run.log" && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$tmp/run.log" >&2; echo "FAILED: scripts/run stopped" >&2; exit 1; }
  sleep 1
done
grep -q "Cartwheel is running" "$tmp/run.log" || { echo "FAILED: scripts/run did not start within 10 minutes" >&2; exit 1; }

# Every process scripts/run started, but the shells and the waits (the script itself).
tree_rss() {
  python3 - "$run_pid" <<'PY'
import os, sys
root = int(sys.argv[1])
kids = {}
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        stat = open(f"/proc/{pid}/stat").read()
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(pid))
    except (OSError, IndexError, ValueError):
        pass
todo, seen = [root], []
while todo:
    p = todo.pop()
    seen.append(p)
    todo += kids.get(p, [])
for p in seen:
    try:
        comm = open(f"/proc/{p}/comm").read().strip()
        rss = ticks = 0
        for line in open(f"/proc/{p}/status"):
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        ticks = int(f[11]) + int(f[12])
    except OSError:
        continue
    if comm in ("bash", "sh", "sleep", "curl", "timeout", "cat", "grep"):
        continue
    print(f"{p}\t{comm}\t{rss}\t{ticks}")
PY
}

echo "   scripts/run is up; the load generator's default rate (10 shoppers) for $seconds s"
LOADGEN_ANSWERS="$tmp/answers.csv" LOADGEN_GATE=0 LOADGEN_STRIPE_URL=http://127.0.0.1:8420 \
  LOADGEN_STRIPE_PUBLISHABLE_KEY=pk_test_cartwheel_dev LOADGEN_ACCOUNT_PREFIX=runfp \
  scripts/load -t "${seconds}s" >"$tmp/load.log" 2>&1 &
load_pid=$!
sleep 20
: >"$tmp/samples.tsv"
while kill -0 "$load_pid" 2>/dev/null; do
  tree_rss | sed "s/^/$(date +%s.%N)\t/" >>"$tmp/samples.tsv"
  sleep 5
done
wait "$load_pid" || true
grep -E '^all |req/s' "$tmp/load.log" | sed 's/^/   load: /' || true
python3 - "$tmp/samples.tsv" "$budget" "$(getconf CLK_TCK)" <<'PY'
import sys
path, budget, hz = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
samples = {}
for line in open(path):
    at, pid, comm, rss, ticks = line.rstrip("\n").split("\t")
    samples.setdefault(float(at), {})[(pid, comm)] = (int(rss) / 1024, int(ticks))
if len(samples) < 2:
    print("FAIL: run footprint: fewer than two samples")
    sys.exit(1)
times = sorted(samples)
first, last = samples[times[0]], samples[times[-1]]
span = times[-1] - times[0]
procs = sorted({k for s in samples.values() for k in s}, key=lambda k: k[1])
print(f"   {'process':<24} {'RSS MiB peak':>12} {'CPU %':>6}")
for k in procs:
    peak = max(s[k][0] for s in samples.values() if k in s)
    cpu = (last[k][1] - first[k][1]) / hz / span * 100 if k in first and k in last else 0
    print(f"   {k[1] + ' (' + k[0] + ')':<24} {peak:>12.1f} {cpu:>6.1f}")
totals = [sum(v[0] for v in s.values()) for s in samples.values()]
peak = max(totals)
print(f"   run footprint: {len(procs)} processes, {len(samples)} samples; resident memory in all at most "
      f"{peak:.0f} MiB of a {budget:.0f} MiB budget; CPU printed, not gated")
if peak > budget:
    print(f"FAIL: run footprint: scripts/run's processes used {peak:.0f} MiB, over their {budget:.0f} MiB budget")
    sys.exit(1)
PY
