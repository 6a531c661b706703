"""The driver of scripts/bench-db: a fixed number of requests per route, one
at a time, with the database's counters read before and after each route.

Per request it prints the statements each service's database ran (from
pg_stat_statements, BEGIN and COMMIT included), the WAL written (the
cluster's pg_current_wal_lsn() moved), and the CPU time of the cluster's
processes (/proc/<pid>/stat, every backend and the background ones). What
the services do on their own while idle (sweeps, the checkout repair loop)
is measured first and taken off each route's figures.
"""

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
PG_URL = os.environ["PG_URL"]
PG_DATA = os.environ["PG_DATA"]
SERVICES = {name: os.environ[name.upper()] for name in ("users", "products", "orders")}
DATABASES = ("users", "products", "orders")
TICK = os.sysconf("SC_CLK_TCK")


def psql(sql):
    out = subprocess.run(["psql", PG_URL, "-qAtc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Client:
    """Keep-alive HTTP connections, one per service."""

    def __init__(self):
        self.conns = {}

    def call(self, service, method, path, body=None, token=None, headers=None):
        sent = {"Content-Type": "application/json"}
        if token:
            sent["Authorization"] = "Bearer " + token
        sent.update(headers or {})
        data = json.dumps(body) if body is not None else None
        try:
            return self.send(service, method, path, data, sent)
        except (http.client.RemoteDisconnected, ConnectionError):
            # A keep-alive connection the service closed while idle
            # (HEADER_READ_TIMEOUT_MS): once more on a new one.
            self.conns.pop(service, None)
            return self.send(service, method, path, data, sent)

    def send(self, service, method, path, data, sent):
        conn = self.conns.get(service)
        if conn is None:
            base = urllib.parse.urlparse(SERVICES[service])
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
            self.conns[service] = conn
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)


def postgres_pids():
    with open(os.path.join(PG_DATA, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    pids = [postmaster]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def cpu_seconds():
    """utime + stime of the cluster's processes (those alive now)."""
    total = 0
    for pid in postgres_pids():
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def snapshot():
    rows = psql(
        "SELECT d.datname, coalesce(sum(s.calls), 0) FROM pg_database d "
        "LEFT JOIN pg_stat_statements s ON s.dbid = d.oid "
        "WHERE d.datname LIKE 'cw_%' GROUP BY 1"
    )
    statements = {db: 0 for db in DATABASES}
    for line in rows.splitlines():
        name, calls = line.split("|")
        statements[name.removeprefix("cw_")] = int(calls)
    wal = int(float(psql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")))
    return {"statements": statements, "wal": wal, "cpu": cpu_seconds(), "at": time.monotonic()}


def difference(before, after):
    return {
        "statements": {db: after["statements"][db] - before["statements"][db] for db in DATABASES},
        "wal": after["wal"] - before["wal"],
        "cpu": after["cpu"] - before["cpu"],
        "seconds": after["at"] - before["at"],
    }


def measure(label, requests, one):
    """Runs `one(i)` for i in range(requests), which must return a 2xx status."""
    before = snapshot()
    started = time.monotonic()
    for i in range(requests):
        status = one(i)
        if not 200 <= status < 300:
            raise SystemExit(f"bench-db: {label}: request {i} answered {status}")
    took = time.monotonic() - started
    return label, requests, took, difference(before, snapshot())


def main():
    c = Client()

    def register(prefix):
        name = f"{prefix}{uuid.uuid4().hex[:12]}"
        body = {"username": name, "email": f"{name}@example.com", "password": "password123"}
        status, _ = c.call("users", "POST", "/api/user/create", body)
        assert status == 201, status
        return name

    def login(name):
        status, answer = c.call("users", "POST", "/api/user/login", {"username": name, "password": "password123"})
        assert status == 200, status
        return answer["api_key"]

    token = login(register("bench"))
    # Its own account: 20 logins retire a user's oldest tokens.
    logger = register("login")
    keyed_token = login(register("keyed"))
    few = max(1, min(REQUESTS, 100))
    buyers = [login(register("buyer")) for _ in range(few)]
    # One unit each, of products with stock enough (the demo's 1 has 40, 4 has 60).
    for n, t in enumerate(buyers):
        c.call("orders", "POST", "/api/order/add-item", {"product_id": 1 if n < 40 else 4, "qty": 1}, token=t)
    # The idle background, per second, taken off every route below.
    before = snapshot()
    time.sleep(5)
    idle = difference(before, snapshot())

    results = []
    results.append(measure("GET /api/products (page cache on)", REQUESTS,
                           lambda i: c.call("products", "GET", "/api/products")[0]))
    results.append(measure("GET /api/products?q= (a new search each)", REQUESTS,
                           lambda i: c.call("products", "GET", f"/api/products?q=x{i}")[0]))
    results.append(measure("GET /api/product/{id}", REQUESTS,
                           lambda i: c.call("products", "GET", f"/api/product/{i % 5 + 1}")[0]))
    results.append(measure("GET /api/user (token check)", REQUESTS,
                           lambda i: c.call("users", "GET", "/api/user", token=token)[0]))
    results.append(measure("POST /api/user/login", few,
                           lambda i: c.call("users", "POST", "/api/user/login",
                                            {"username": logger, "password": "password123"})[0]))
    results.append(measure("POST /api/user/create", few // 2 or 1,
                           lambda i: c.call("users", "POST", "/api/user/create",
                                            {"username": f"reg{uuid.uuid4().hex[:12]}",
                                             "email": f"r{uuid.uuid4().hex[:12]}@example.com",
                                             "password": "password123"})[0]))
    results.append(measure("POST /api/order/add-item", REQUESTS,
                           lambda i: c.call("orders", "POST", "/api/order/add-item",
                                            {"product_id": i % 5 + 1, "qty": 1}, token=token)[0]))
    results.append(measure("POST /api/order/add-item + Idempotency-Key", REQUESTS,
                           lambda i: c.call("orders", "POST", "/api/order/add-item",
                                            {"product_id": i % 5 + 1, "qty": 1}, token=keyed_token,
                                            headers={"Idempotency-Key": uuid.uuid4().hex})[0]))
    results.append(measure("GET /api/order (the cart)", REQUESTS,
                           lambda i: c.call("orders", "GET", "/api/order", token=token)[0]))
    results.append(measure("POST /api/order/checkout (1 line)", few,
                           lambda i: c.call("orders", "POST", "/api/order/checkout", token=buyers[i])[0]))

    per_second = {k: idle["statements"][k] / idle["seconds"] for k in DATABASES}
    print(f"idle background, per second: statements users {per_second['users']:.1f}, "
          f"products {per_second['products']:.1f}, orders {per_second['orders']:.1f}; "
          f"WAL {idle['wal'] / idle['seconds']:.0f} B; CPU {1000 * idle['cpu'] / idle['seconds']:.1f} ms")
    print()
    print("| route | requests | statements per request (users / products / orders) | WAL bytes per request | database CPU per request | requests/s, one at a time |")
    print("|---|---|---|---|---|---|")
    for label, n, took, d in results:
        secs = d["seconds"]
        stm = [max(0.0, (d["statements"][k] - per_second[k] * secs) / n) for k in DATABASES]
        wal = max(0.0, (d["wal"] - idle["wal"] / idle["seconds"] * secs) / n)
        cpu = max(0.0, (d["cpu"] - idle["cpu"] / idle["seconds"] * secs) / n)
        print(f"| {label} | {n} | {stm[0]:.1f} / {stm[1]:.1f} / {stm[2]:.1f} | {wal:,.0f} | "
              f"{1000 * cpu:.2f} ms | {n / took:,.0f} |")


main()
