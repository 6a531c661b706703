#!/usr/bin/env python3
"""The end invariants of contract v1.2/v1.3, read through the public API as an admin.

Stock:
for every product that tracks stock, at a quiet moment,

    stock + units in live orders (awaiting_payment, placed, paid)
          + units shipped or delivered  =  units ever stocked

"Ever stocked" is the sum at a first quiet moment (the baseline) plus every restock
the load generator made since (its ledger: a restock sets a sold-out product's stock,
so it adds `after - before`; the generator writes it only when it read `before`
under a lock that keeps its own cancels out, see locustfile.py).

    invariant.py snapshot OUT.json                 # the baseline, before the load
    invariant.py check BASE.json [LEDGER.jsonl]    # after it: exit 1 on any difference
    invariant.py set-stock UNITS                   # every tracked product to UNITS (setup)

Money ("Payments (v1.3)"): what the payment provider holds, its succeeded PaymentIntents
less their refunds, equals the total of the orders paid, shipped or delivered; no order
has two succeeded PaymentIntents. The provider is asked directly (its API with the
secret key: LOADGEN_STRIPE_URL, LOADGEN_STRIPE_SECRET), so this needs a provider that
has seen every payment of the shop (a fresh emulator with a fresh shop).

    invariant.py money

Emails ("Orders after checkout (v1.3)"): one email to the shopper per transition the
contract marks (placed, paid, cancelled, shipped, delivered: each order's `events`),
counted by distinct Message-ID (`<order-ID-CREATED.STATUS.shopper@...>`, fixed by the
order and the status, so a resend after a crash is the same message): none missing
(lost), none for a transition that did not happen, none twice under two ids.

    invariant.py emails MESSAGE_IDS.txt            # one Message-ID a line, as the catcher holds them

Standard library only. The shop and the admin: LOADGEN_USERS_URL,
LOADGEN_PRODUCTS_URL, LOADGEN_ORDERS_URL, LOADGEN_ADMIN_USER, LOADGEN_ADMIN_PASSWORD.
Orders without a `status` (a service before v1.3) count as `placed` once closed.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

USERS = os.environ.get("LOADGEN_USERS_URL", "http://127.0.0.1:5001").rstrip("/")
PRODUCTS = os.environ.get("LOADGEN_PRODUCTS_URL", "http://127.0.0.1:5002").rstrip("/")
ORDERS = os.environ.get("LOADGEN_ORDERS_URL", "http://127.0.0.1:5003").rstrip("/")
LIVE = ("awaiting_payment", "placed", "paid")
GONE_OUT = ("shipped", "delivered")


def call(method, url, token=None, body=None, tries=5):
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(tries):
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            if e.code in (429, 503) and attempt < tries - 1:
                time.sleep(float(e.headers.get("Retry-After") or 1))
                continue
            try:
                return e.code, json.loads(e.read() or b"{}")
            except ValueError:
                return e.code, {}
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            if attempt == tries - 1:
                raise
            time.sleep(1)
    raise RuntimeError("unreachable")


def admin_token():
    user = os.environ.get("LOADGEN_ADMIN_USER")
    password = os.environ.get("LOADGEN_ADMIN_PASSWORD")
    if not user or not password:
        sys.exit("invariant: set LOADGEN_ADMIN_USER and LOADGEN_ADMIN_PASSWORD (an admin)")
    status, doc = call("POST", f"{USERS}/api/user/login", body={"username": user, "password": password})
    if status != 200:
        sys.exit(f"invariant: admin login answered {status} {doc}")
    return doc["api_key"]


def pages(url, token):
    out, offset = [], 0
    sep = "&" if "?" in url else "?"
    while True:
        status, doc = call("GET", f"{url}{sep}limit=1000&offset={offset}", token)
        if status != 200:
            return status, doc, out
        out += doc.get("results", [])
        offset += 1000
        if offset >= doc.get("total", 0):
            return 200, doc, out


def products(token):
    status, doc, rows = pages(f"{PRODUCTS}/api/products?include_hidden=true", token)
    if status != 200:
        sys.exit(f"invariant: GET /api/products answered {status} {doc}")
    return {p["id"]: p for p in rows}


def orders(token):
    """Every order that holds units: live, shipped or delivered (admin: everyone's)."""
    statuses = ",".join(LIVE + GONE_OUT)
    status, doc, rows = pages(f"{ORDERS}/api/orders?status={statuses}", token)
    if status == 422:  # a service before v1.3: no status filter; filter here
        status, doc, rows = pages(f"{ORDERS}/api/orders", token)
    if status != 200:
        sys.exit(f"invariant: GET /api/orders answered {status} {doc}")
    return rows


def order_status(o):
    return o.get("status") or ("open" if o.get("is_open") else "placed")


def tally(token):
    prods = products(token)
    held = {pid: {"live": 0, "out": 0} for pid in prods}
    by_status = {}
    for o in orders(token):
        st = order_status(o)
        by_status[st] = by_status.get(st, 0) + 1
        kind = "live" if st in LIVE else "out" if st in GONE_OUT else None
        if kind is None:
            continue
        for item in o.get("items", []):
            held.setdefault(item["product"], {"live": 0, "out": 0})[kind] += item["quantity"]
    rows = {}
    for pid, p in prods.items():
        if p.get("stock") is None:
            continue  # not tracked: never runs out, nothing to count
        h = held.get(pid, {"live": 0, "out": 0})
        rows[str(pid)] = {
            "name": p.get("name"),
            "stock": p["stock"],
            "live": h["live"],
            "out": h["out"],
            "sum": p["stock"] + h["live"] + h["out"],
        }
    return rows, by_status


EMAILED = ("placed", "paid", "cancelled", "shipped", "delivered")


def every_order(token):
    status, doc, rows = pages(f"{ORDERS}/api/orders?status=" + ",".join(LIVE + GONE_OUT + ("cancelled",)), token)
    if status != 200:
        sys.exit(f"invariant: GET /api/orders answered {status} {doc}")
    return rows


def stripe_get(path):
    base = os.environ.get("LOADGEN_STRIPE_URL", "http://127.0.0.1:8420").rstrip("/")
    secret = os.environ.get("LOADGEN_STRIPE_SECRET", "sk_test_cartwheel_compose")
    req = urllib.request.Request(base + path)
    req.add_header("Authorization", f"Bearer {secret}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def money(token):
    intents, after = [], None
    while True:
        page = stripe_get("/v1/payment_intents?limit=100" + (f"&starting_after={after}" if after else ""))
        data = page.get("data", [])
        intents += data
        if not page.get("has_more") or not data:
            break
        after = data[-1]["id"]
    held, succeeded_by_order, refunded_total = 0, {}, 0
    for pi in intents:
        if pi.get("status") != "succeeded":
            continue
        refunds = stripe_get(f"/v1/refunds?payment_intent={pi['id']}&limit=100").get("data", [])
        refunded = sum(r.get("amount", 0) for r in refunds if r.get("status", "succeeded") == "succeeded")
        refunded_total += refunded
        held += pi["amount"] - refunded
        oid = (pi.get("metadata") or {}).get("order_id")
        succeeded_by_order.setdefault(oid, []).append(pi["id"])
    orders = every_order(token)
    kept = sum(o["total"] for o in orders if o.get("status") in ("paid", "shipped", "delivered"))
    by_status = {}
    for o in orders:
        by_status[o.get("status")] = by_status.get(o.get("status"), 0) + 1
    twice = {k: v for k, v in succeeded_by_order.items() if len(v) > 1}
    print(f"invariant: money: {len(intents)} PaymentIntents, {sum(len(v) for v in succeeded_by_order.values())} "
          f"succeeded, {refunded_total} cents refunded; the provider holds {held} cents, the orders paid, "
          f"shipped or delivered total {kept} cents (orders {by_status})")
    bad = []
    if held != kept:
        bad.append(f"the provider holds {held} cents, the orders paid/shipped/delivered total {kept} ({held - kept:+d})")
    for oid, ids in twice.items():
        bad.append(f"order {oid} has {len(ids)} succeeded PaymentIntents: {', '.join(ids)}")
    return bad


def emails(token, ids_path):
    import re

    pattern = re.compile(r"<order-(\d+)-(\d+)\.([a-z_]+)\.(shopper|merchant)@")
    seen, merchant, strange = {}, 0, []
    for line in open(ids_path):
        mid = line.strip()
        if not mid:
            continue
        m = pattern.search(mid)
        if not m:
            strange.append(mid)
            continue
        if m.group(4) == "merchant":
            merchant += 1
            continue
        seen.setdefault((int(m.group(1)), m.group(3)), set()).add(mid)
    expected = set()
    for o in every_order(token):
        for e in o.get("events") or []:
            if e.get("status") in EMAILED:
                expected.add((o["id"], e["status"]))
    lost = sorted(expected - set(seen))
    extra = sorted(set(seen) - expected)
    doubled = sorted(k for k, v in seen.items() if len(v) > 1)
    print(f"invariant: emails: {len(expected)} transitions that send one, {sum(len(v) for v in seen.values())} "
          f"distinct shopper Message-IDs in the catcher ({merchant} to the merchant)")
    bad = []
    if lost:
        bad.append(f"{len(lost)} lost (order, status): {lost[:10]}")
    if extra:
        bad.append(f"{len(extra)} for a transition that did not happen (order, status): {extra[:10]}")
    if doubled:
        bad.append(f"{len(doubled)} transitions sent under two Message-IDs: {doubled[:10]}")
    if strange:
        bad.append(f"{len(strange)} messages with an unexpected Message-ID: {strange[:3]}")
    return bad


def main(argv):
    if len(argv) < 2 or argv[1] not in ("snapshot", "check", "set-stock", "money", "emails"):
        print(__doc__, file=sys.stderr)
        return 2
    token = admin_token()
    if argv[1] in ("money", "emails"):
        bad = money(token) if argv[1] == "money" else emails(token, argv[2])
        for b in bad:
            print(f"FAIL: {argv[1]} invariant: {b}")
        if not bad:
            print(f"invariant: {argv[1]}: holds")
        return 1 if bad else 0
    if argv[1] == "set-stock":
        units = int(argv[2])
        for pid, p in products(token).items():
            if p.get("stock") is not None:
                status, doc = call("PATCH", f"{PRODUCTS}/api/product/{pid}", token, {"stock": units})
                if status != 200:
                    sys.exit(f"invariant: PATCH /api/product/{pid} answered {status} {doc}")
        print(f"invariant: every tracked product's stock set to {units}")
        return 0
    rows, by_status = tally(token)
    if argv[1] == "snapshot":
        with open(argv[2], "w") as f:
            json.dump({"at": time.time(), "products": rows, "orders_by_status": by_status}, f, indent=1)
        print(f"invariant: baseline of {len(rows)} tracked products, orders {by_status}")
        return 0

    base = json.load(open(argv[2]))["products"]
    restocked = {}
    if len(argv) > 3 and os.path.exists(argv[3]):
        for line in open(argv[3]):
            if line.strip():
                r = json.loads(line)
                restocked[str(r["product"])] = restocked.get(str(r["product"]), 0) + r["after"] - r["before"]
    bad = []
    print(f"invariant: orders by status now {by_status}")
    print(f"{'product':>7}  {'stock':>5}  {'live':>5}  {'shipped':>7}  {'sum':>5}  {'ever':>5}  name")
    for pid in sorted(set(base) | set(rows), key=int):
        now = rows.get(pid)
        if now is None:
            bad.append(f"product {pid} tracked at the start is no longer tracked")
            continue
        ever = base.get(pid, {"sum": 0})["sum"] + restocked.get(pid, 0)
        mark = "" if now["sum"] == ever else "   <-- BROKEN"
        print(f"{pid:>7}  {now['stock']:>5}  {now['live']:>5}  {now['out']:>7}  {now['sum']:>5}  {ever:>5}  {now['name']}{mark}")
        if now["sum"] != ever:
            bad.append(f"product {pid} ({now['name']}): stock {now['stock']} + live {now['live']} + shipped "
                       f"{now['out']} = {now['sum']}, ever stocked {ever} (restocks {restocked.get(pid, 0):+d})")
    for b in bad:
        print(f"FAIL: stock invariant: {b}")
    if not bad:
        print(f"invariant: holds for all {len(rows)} tracked products "
              f"({sum(1 for _ in restocked)} restocked by the generator)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
