"""Cartwheel's traffic model: shoppers and one admin, as Locust users.

Journeys and their weights (a shopper picks one after each think time):

    browse   30  GET /api/products (first page, now and then a product's image)
    product  22  GET /api/product/{id_or_slug} (by slug or id)
    search   14  GET /api/products?q=
    page     10  GET /api/products?offset=&sort=
    add      12  POST /api/order/add-item
    adjust    5  GET /api/order, POST /api/order/update-item
    checkout  5  POST /api/order/checkout (Idempotency-Key, a shipping address); when
                 the order awaits payment (payments on), POST /api/order/{id}/pay with
                 the test-card mix (declines, then another card; 3-D Secure, then
                 payment/sync), at most one payment a second (LOADGEN_PAY_INTERVAL)
    cancel    2  GET /api/orders, POST /api/order/{id}/cancel
and the admin (one, when LOADGEN_ADMIN_USER is set):
    restock   1  PATCH /api/product/{id} stock, for products sold out
    ship      2  GET /api/orders?status=placed,paid, POST /api/order/{id}/ship
                 (tracking_number), now and then /deliver

Every answer is recorded (loadgen/report.py): status, templated route, latency. At
the end the per-route table is printed and, unless LOADGEN_GATE=0, the run fails on
any 5xx other than 503 with Retry-After, any request without an answer and any answer
over 10 s.

Settings (environment):
    LOADGEN_USERS_URL, LOADGEN_PRODUCTS_URL, LOADGEN_ORDERS_URL
                          the three services (default 127.0.0.1:5001-5003, compose's ports)
    LOADGEN_ADMIN_USER, LOADGEN_ADMIN_PASSWORD
                          an admin account (make one with `api-users make-admin`); unset:
                          no admin journeys
    LOADGEN_ANSWERS       CSV of every answer (default loadgen/out/answers.csv)
    LOADGEN_SUMMARY       JSON of the per-route table (default beside the answers)
    LOADGEN_LEDGER        JSON lines of every restock (product, before, after), for the
                          soak's stock invariant (default beside the answers)
    LOADGEN_BODIES        JSON lines of every answer's status and body, for the soak's
                          OpenAPI gate (loadgen/contract.py); unset: not recorded
    LOADGEN_RATE_FILE     a file holding "USERS [SPAWN_RATE]": read every 2 s, so the
                          rate can change while a headless run goes on (a shape; then
                          --users is ignored and --run-time still ends the run)
    LOADGEN_STRIPE_URL    the payment emulator (localstripe) the shop talks to, for card
                          tokens and the 3-D Secure step; LOADGEN_STRIPE_PUBLISHABLE_KEY,
                          LOADGEN_CARDS ("number:weight,..."; default 80% 4242..., 10%
                          declined 4000000000000341, 10% 3-D Secure 4000002500003155)
    LOADGEN_RESTOCK_UNITS units a restock sets a sold-out product to (default 20)
    LOADGEN_PASSWORD      the shoppers' password (default: a fixed test one)
    LOADGEN_ACCOUNT_PREFIX  shopper n's account is PREFIX + n (default lgshopper), made
                          on first use and logged in to by later runs
    LOADGEN_GATE          0: report only, exit 0 whatever happened (the soak judges itself)

Features of contract v1.3 that a service may not have yet (cancel, ship, deliver,
order status) are detected: a 404 "No such route" (the services' answer for a path
no route matches) turns the journey off for the rest of the run, and the end of the run
says so. No other answer turns anything off.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import sys
import threading
import time
import uuid

from locust import FastHttpUser, LoadTestShape, between, events, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (beside this file)

USERS_URL = os.environ.get("LOADGEN_USERS_URL", "http://127.0.0.1:5001").rstrip("/")
PRODUCTS_URL = os.environ.get("LOADGEN_PRODUCTS_URL", "http://127.0.0.1:5002").rstrip("/")
ORDERS_URL = os.environ.get("LOADGEN_ORDERS_URL", "http://127.0.0.1:5003").rstrip("/")
ADMIN_USER = os.environ.get("LOADGEN_ADMIN_USER", "")
ADMIN_PASSWORD = os.environ.get("LOADGEN_ADMIN_PASSWORD", "")
PASSWORD = os.environ.get("LOADGEN_PASSWORD", "loadgen correct horse")
ACCOUNT_PREFIX = os.environ.get("LOADGEN_ACCOUNT_PREFIX", "lgshopper")
RESTOCK_UNITS = int(os.environ.get("LOADGEN_RESTOCK_UNITS", "20"))
GATE = os.environ.get("LOADGEN_GATE", "1") != "0"
HERE = os.path.dirname(os.path.abspath(__file__))
ANSWERS = os.environ.get("LOADGEN_ANSWERS", os.path.join(HERE, "out", "answers.csv"))
SUMMARY = os.environ.get("LOADGEN_SUMMARY", os.path.splitext(ANSWERS)[0] + ".summary.json")
LEDGER = os.environ.get("LOADGEN_LEDGER", os.path.splitext(ANSWERS)[0] + ".restocks.jsonl")
RATE_FILE = os.environ.get("LOADGEN_RATE_FILE", "")
BODIES = os.environ.get("LOADGEN_BODIES", "")
STRIPE_URL = os.environ.get("LOADGEN_STRIPE_URL", "").rstrip("/")
STRIPE_PK = os.environ.get("LOADGEN_STRIPE_PUBLISHABLE_KEY", "pk_test_loadgen")
# The test-card mix: card number and weight (succeeds, declined at charge, asks for 3-D Secure).
CARDS = [
    (c.split(":")[0], int(c.split(":")[1]))
    for c in os.environ.get(
        "LOADGEN_CARDS", "4242424242424242:80,4000000000000341:10,4000002500003155:10"
    ).split(",")
]
PAY_INTERVAL = float(os.environ.get("LOADGEN_PAY_INTERVAL", "1.0"))  # the emulator is no load-test target

LIVE = ("awaiting_payment", "placed", "paid")
SEARCH_TERMS = ["mug", "coffee", "tea", "glass", "press", "cup", "linen", "grinder", "bean", "pot", "zzz"]
SORTS = ["id", "price", "-price", "name", "-name", "-id"]

# ---------------------------------------------------------------------------
# Recording every answer.


class Recorder:
    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.file = open(path, "w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(report.FIELDS)
        self.answers: list[report.Answer] = []
        self.started = time.time()
        self.last_flush = time.time()
        self.bodies = open(BODIES, "w") if BODIES else None

    def add(self, a: report.Answer, content_type: str = "", text: str | None = None) -> None:
        self.answers.append(a)
        self.writer.writerow(
            [f"{a.start:.3f}", f"{a.ms:.1f}", a.method, a.route, a.status, int(a.retry_after), a.journey, a.note]
        )
        if self.bodies is not None and a.status:
            # Judged after the run (loadgen/contract.py), so validating never slows the load.
            self.bodies.write(json.dumps([round(a.start, 3), a.method, a.route, a.status, content_type, text]) + "\n")
        if time.time() - self.last_flush > 1:
            self.file.flush()
            if self.bodies is not None:
                self.bodies.flush()
            self.last_flush = time.time()

    def close(self) -> None:
        self.file.flush()
        self.file.close()
        if self.bodies is not None:
            self.bodies.close()


recorder: Recorder | None = None
features: dict[str, str] = {}  # journey -> why it is off
restock_lock = threading.Lock()  # gevent patches threading: a cancel and a restock never interleave
shared_accounts: list[str] = []  # accounts this process logged in to: a 429 on registration falls back to them
account_numbers = itertools.count(1)
pay_lock = threading.Lock()
last_pay = [0.0]
emulator_misses = [0]  # card tokens the emulator did not make (down or paused): those orders stay unpaid


@events.init.add_listener
def _init(environment, **_kw):
    global recorder
    if getattr(environment.runner, "__class__", None).__name__ == "MasterRunner":
        return  # a distributed master records nothing; its workers do
    recorder = Recorder(ANSWERS)


@events.request.add_listener
def _on_request(request_type, name, response_time, response, exception, context, start_time=None, **_kw):
    if recorder is None:
        return
    status = getattr(response, "status_code", 0) or 0
    headers = getattr(response, "headers", None) or {}
    try:
        retry_after = headers.get("Retry-After") is not None or headers.get("retry-after") is not None
    except Exception:  # noqa: BLE001  (a response without headers)
        retry_after = False
    content_type, text = "", None
    if BODIES and status:
        try:
            content_type = headers.get("Content-Type") or headers.get("content-type") or ""
        except Exception:  # noqa: BLE001
            content_type = ""
        if "json" in content_type:
            try:
                text = response.content.decode("utf-8", "replace") if response.content else ""
            except Exception:  # noqa: BLE001  (a body cut short)
                text = ""
    recorder.add(
        report.Answer(
            start=start_time or time.time() - (response_time or 0) / 1000,
            ms=float(response_time or 0),
            method=request_type,
            route=name,
            status=int(status),
            retry_after=retry_after,
            journey=(context or {}).get("journey", ""),
            # Why there was no answer (connection refused, reset, timeout), for the record.
            note="" if status else str(exception or "no answer")[:120].replace("\n", " "),
        ),
        content_type,
        text,
    )


@events.quitting.add_listener
def _on_quit(environment, **_kw):
    if recorder is None:
        return
    recorder.close()
    answers = recorder.answers
    seconds = time.time() - recorder.started
    routes = report.summarise(answers)
    budgets = report.load_budgets(os.path.join(HERE, "budgets.json"))
    print()
    print(report.table(routes, budgets, seconds))
    failed = report.failures(answers)
    if failed:
        print("failed or slow answers:\n" + failed)
    for journey, why in sorted(features.items()):
        print(f"feature absent: {journey} ({why}); that journey was turned off")
    if emulator_misses[0]:
        print(f"payment emulator: {emulator_misses[0]} card tokens not made (it was down or paused); those orders stayed unpaid")
    with open(SUMMARY, "w") as f:
        json.dump(
            {"seconds": seconds, "routes": report.as_json(routes), "features_absent": features}, f, indent=1
        )
    print(f"answers: {ANSWERS}\nsummary: {SUMMARY}")
    problems = report.judge(routes, {}, min_samples=10**9)  # budgets: the soak's business
    for p in problems:
        print(f"FAIL: {p}")
    if GATE:
        environment.process_exit_code = 1 if problems or not answers else 0
    else:
        environment.process_exit_code = 0


# ---------------------------------------------------------------------------
# The rate, changeable while running (headless too): a file with "USERS [SPAWN_RATE]".

if RATE_FILE:

    class RateFromFile(LoadTestShape):
        """Users (and spawn rate) from LOADGEN_RATE_FILE, read every tick; the run
        ends at --run-time, or when the file says `stop`."""

        use_common_options = True
        last = (1, 1.0)

        def tick(self):
            run_time = getattr(self.runner.environment.parsed_options, "run_time", None)
            if run_time and self.get_run_time() >= run_time:
                return None
            try:
                with open(RATE_FILE) as f:
                    words = f.read().split()
                if words and words[0] == "stop":
                    return None
                users = int(words[0])
                rate = float(words[1]) if len(words) > 1 else max(1.0, users / 10)
                self.last = (users, rate)
            except (OSError, ValueError, IndexError):
                pass  # keep the last good rate
            return self.last


# ---------------------------------------------------------------------------
# Journeys.


def idem() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def no_such_route(resp) -> bool:
    """The services' answer for a path that no route matches (server/src/http.rs)."""
    if resp.status_code != 404:
        return False
    try:
        return (resp.json() or {}).get("message") == "No such route"
    except Exception:  # noqa: BLE001
        return False


def body(resp) -> dict:
    try:
        doc = resp.json()
        return doc if isinstance(doc, dict) else {}
    except Exception:  # noqa: BLE001
        return {}


class Cartwheel(FastHttpUser):
    abstract = True
    host = PRODUCTS_URL
    # A client gives up after 15 s, so an answer over 10 s is still seen (and failed).
    network_timeout = 15.0
    connection_timeout = 5.0
    token = ""

    def call(self, method, base, path, route, journey, **kw):
        """One request; `route` is the templated name it is recorded under. Locust's own
        statistics count only a 5xx or no answer as a failure; our record keeps every
        status."""
        headers = kw.pop("headers", {}) or {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.client.request(
            method, base + path, name=route, headers=headers, catch_response=True,
            context={"journey": journey}, **kw
        ) as resp:
            if resp.status_code == 0 or resp.status_code >= 500:
                resp.failure(f"{resp.status_code}")
            else:
                resp.success()
            return resp

    def sleep_retry_after(self, resp, cap=5.0):
        try:
            time.sleep(min(cap, float((resp.headers or {}).get("Retry-After") or 1)))
        except (TypeError, ValueError, AttributeError):
            time.sleep(1)

    def login(self, username, password, journey="login") -> bool:
        self.token = ""
        for _ in range(5):
            r = self.call("POST", USERS_URL, "/api/user/login", "/api/user/login", journey,
                          json={"username": username, "password": password})
            if r.status_code == 200:
                self.token = body(r).get("api_key", "")
                return bool(self.token)
            if r.status_code in (429, 503) or r.status_code >= 500 or r.status_code == 0:
                self.sleep_retry_after(r)
                continue
            return False
        return False


class Shopper(Cartwheel):
    weight = 20
    wait_time = between(1, 4)

    def on_start(self):
        self.products: list[dict] = []
        self.cart: dict | None = None
        self.username = ""
        self.register_and_login()
        self.refresh_catalogue("browse")

    # -- account --------------------------------------------------------------

    def register_and_login(self):
        """Shopper n of this process is the account LOADGEN_ACCOUNT_PREFIX + n: logged in
        when it exists (an earlier run made it), else registered. So runs against one
        shop reuse their accounts, and a shop's REGISTER_MAX_PER_ADDRESS (20 an hour per
        client address, and every generator user has the same) is spent once; when it
        is spent anyway (429), the shopper shares an account made before."""
        n = next(account_numbers)
        name = f"{ACCOUNT_PREFIX}{n}"
        for attempt in range(10):
            e = self.call("GET", USERS_URL, f"/api/user/{name}/exists", "/api/user/{username}/exists", "register")
            if e.status_code == 200:
                if self.login(name, PASSWORD):
                    break
                name = f"{ACCOUNT_PREFIX}{n}x{uuid.uuid4().hex[:6]}"  # someone else's password: another name
                continue
            if e.status_code == 404:
                r = self.call("POST", USERS_URL, "/api/user/create", "/api/user/create", "register",
                              json={"username": name, "email": f"{name}@example.com", "password": PASSWORD,
                                    "first_name": "Load"},
                              headers=idem())
                if r.status_code in (201, 409) and self.login(name, PASSWORD):
                    break
                if r.status_code == 429 and shared_accounts:
                    # Registrations spent: share an account made before (and its cart).
                    name = random.choice(shared_accounts)
                    if self.login(name, PASSWORD):
                        self.username = name
                        return
                self.sleep_retry_after(r, cap=10)
            else:
                self.sleep_retry_after(e, cap=5)
        else:
            raise RuntimeError(f"could not get a shopper account ({name})")
        shared_accounts.append(name)
        self.username = name

    def ensure_token(self, r) -> bool:
        """A 401 (token retired: more than 20 logins on one account) logs in again."""
        if r.status_code == 401 and self.username:
            return self.login(self.username, PASSWORD, "relogin")
        return False

    # -- catalogue ------------------------------------------------------------

    def refresh_catalogue(self, journey):
        r = self.call("GET", PRODUCTS_URL, "/api/products?limit=100", "/api/products", journey)
        if r.status_code == 200:
            self.products = body(r).get("results", []) or self.products

    def sellable(self) -> list[dict]:
        return [p for p in self.products if p.get("stock") is None or p.get("stock", 0) > 0]

    @task(30)
    def browse(self):
        self.refresh_catalogue("browse")
        if self.products and random.random() < 0.2:
            image = random.choice(self.products).get("image") or ""
            if "/images/" in image:
                self.call("GET", PRODUCTS_URL, "/images/" + image.rsplit("/images/", 1)[1], "/images/{file}", "browse")

    @task(22)
    def product(self):
        if not self.products:
            return self.refresh_catalogue("product")
        p = random.choice(self.products)
        ref = p.get("slug") if random.random() < 0.5 and p.get("slug") else p.get("id")
        self.call("GET", PRODUCTS_URL, f"/api/product/{ref}", "/api/product/{id_or_slug}", "product")

    @task(14)
    def search(self):
        q = random.choice(SEARCH_TERMS)
        self.call("GET", PRODUCTS_URL, f"/api/products?q={q}&limit=20", "/api/products", "search")

    @task(10)
    def page(self):
        offset = random.choice([0, 2, 4, 8, 12])
        sort = random.choice(SORTS)
        r = self.call("GET", PRODUCTS_URL, f"/api/products?limit=4&offset={offset}&sort={sort}", "/api/products", "page")
        if r.status_code == 422:  # a service before v1.3 has no `sort`
            self.call("GET", PRODUCTS_URL, f"/api/products?limit=4&offset={offset}", "/api/products", "page")

    # -- cart -----------------------------------------------------------------

    def add_one(self, journey) -> bool:
        choices = self.sellable()
        if not choices:
            self.refresh_catalogue(journey)
            choices = self.sellable()
            if not choices:
                return False
        p = random.choice(choices)
        r = self.call("POST", ORDERS_URL, "/api/order/add-item", "/api/order/add-item", journey,
                      json={"product_id": p["id"], "qty": random.choice([1, 1, 1, 2])}, headers=idem())
        if r.status_code == 200:
            self.cart = body(r).get("result")
            return True
        if self.ensure_token(r):
            return False
        if r.status_code == 404:  # hidden meanwhile, or gone
            self.refresh_catalogue(journey)
        return False

    @task(12)
    def add(self):
        if self.cart and len(self.cart.get("items", [])) >= 4:
            return self.adjust()
        self.add_one("add")

    def read_cart(self, journey):
        r = self.call("GET", ORDERS_URL, "/api/order", "/api/order", journey)
        if r.status_code == 200:
            self.cart = body(r).get("result")
        elif r.status_code == 404:
            self.cart = None
        else:
            self.ensure_token(r)
        return self.cart

    @task(5)
    def adjust(self):
        cart = self.read_cart("adjust")
        if not cart or not cart.get("items"):
            return
        line = random.choice(cart["items"])
        qty = random.choice([0, 1, 2, 3])
        r = self.call("POST", ORDERS_URL, "/api/order/update-item", "/api/order/update-item", "adjust",
                      json={"product_id": line["product"], "qty": qty})
        if r.status_code == 200:
            self.cart = body(r).get("result")

    @task(5)
    def checkout(self):
        cart = self.read_cart("checkout")
        if not cart or not cart.get("items"):
            if not self.add_one("checkout"):
                return
        v13 = bool(self.cart and "status" in self.cart)
        for _ in range(3):
            kw = {"headers": idem()}
            if v13:
                kw["json"] = {"shipping_address": {"name": "Load Generator", "line1": "1 Test Street",
                                                   "city": "Testville", "postal_code": "12345", "country": "DE"}}
            r = self.call("POST", ORDERS_URL, "/api/order/checkout", "/api/order/checkout", "checkout", **kw)
            doc = body(r)
            if r.status_code == 200:
                self.cart = None
                order = doc.get("result") or {}
                if order.get("status") == "awaiting_payment":
                    self.pay(order)
                return
            if r.status_code == 409 and doc.get("error") == "out_of_stock":
                # Take the short lines out, then try again with what is left.
                for pid in (doc.get("fields") or {}):
                    try:
                        pid = int(pid)
                    except ValueError:
                        continue
                    self.call("POST", ORDERS_URL, "/api/order/update-item", "/api/order/update-item", "checkout",
                              json={"product_id": pid, "qty": 0})
                self.refresh_catalogue("checkout")
                continue
            if r.status_code == 409 and doc.get("error") == "prices_changed":
                continue  # the cart holds the new prices: confirm by checking out again
            if r.status_code in (409, 429, 503):  # in progress, too_many_unpaid, overloaded
                self.sleep_retry_after(r, cap=2)
                return
            self.ensure_token(r)
            return

    # -- payments (contract v1.3, when the shop takes them) ----------------------

    def card_token(self, number):
        """What Stripe.js's createToken does in the browser, against the emulator (not
        recorded: the shop's answers are judged, not the emulator's)."""
        import urllib.parse
        import urllib.request

        data = urllib.parse.urlencode({"key": STRIPE_PK, "card[number]": number, "card[exp_month]": "12",
                                       "card[exp_year]": "2034", "card[cvc]": "123"}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{STRIPE_URL}/v1/tokens", data=data), timeout=10) as r:
            return json.loads(r.read())["id"]

    def authenticate(self, client_secret):
        """The 3-D Secure step the SPA completes with Stripe.js: the emulator's stand-in."""
        import urllib.request

        import urllib.parse

        pi = client_secret.split("_secret_")[0]
        data = urllib.parse.urlencode({"key": STRIPE_PK, "client_secret": client_secret}).encode()
        req = urllib.request.Request(f"{STRIPE_URL}/v1/payment_intents/{pi}/_authenticate?success=true", data=data)
        urllib.request.urlopen(req, timeout=10).read()

    def pay(self, order):
        """Pays an order awaiting payment with the test-card mix, at most one payment a
        second for the whole generator; a decline is followed by another card."""
        if not STRIPE_URL:
            features.setdefault("pay", "orders await payment but LOADGEN_STRIPE_URL is unset: left to expire")
            return
        oid = order["id"]
        for attempt in range(3):
            with pay_lock:
                wait = last_pay[0] + PAY_INTERVAL - time.time()
                if wait > 0:
                    time.sleep(wait)
                last_pay[0] = time.time()
            number = random.choices([c for c, _ in CARDS], [w for _, w in CARDS])[0] if attempt == 0 else CARDS[0][0]
            try:
                token = self.card_token(number)
            except Exception:  # noqa: BLE001  (the emulator, not the shop: paused by the soak, say)
                emulator_misses[0] += 1
                return
            r = self.call("POST", ORDERS_URL, f"/api/order/{oid}/pay", "/api/order/{id}/pay", "pay",
                          json={"payment_method": token}, headers=idem())
            if no_such_route(r):
                features.setdefault("pay", "POST /api/order/{id}/pay: 404 No such route")
                return
            result = body(r).get("result") or {}
            payment = result.get("payment") or {}
            if r.status_code != 200 or result.get("status") != "awaiting_payment":
                return  # paid, or an answer the table shows
            if payment.get("status") == "requires_action" and payment.get("client_secret"):
                try:
                    self.authenticate(payment["client_secret"])
                except Exception:  # noqa: BLE001
                    return
                self.call("POST", ORDERS_URL, f"/api/order/{oid}/payment/sync", "/api/order/{id}/payment/sync",
                          "pay", headers=idem())
                return
            # Declined: the shopper tries another card (the first of the mix).

    @task(2)
    def cancel(self):
        if "cancel" in features:
            return
        r = self.call("GET", ORDERS_URL, "/api/orders?limit=10", "/api/orders", "cancel")
        if r.status_code != 200:
            self.ensure_token(r)
            return
        orders = [o for o in body(r).get("results", []) if o.get("status") in LIVE]
        if not orders:
            if body(r).get("results") and "status" not in body(r)["results"][0]:
                features.setdefault("cancel", "orders have no status (contract before v1.3)")
            return
        o = random.choice(orders)
        with restock_lock:  # the soak's ledger: no restock reads a product while units come back
            r = self.call("POST", ORDERS_URL, f"/api/order/{o['id']}/cancel", "/api/order/{id}/cancel", "cancel",
                          headers=idem())
        if no_such_route(r):
            features.setdefault("cancel", "POST /api/order/{id}/cancel: 404 No such route")


if ADMIN_USER:

    class Admin(Cartwheel):
        fixed_count = 1
        wait_time = between(2, 5)

        def on_start(self):
            if not self.login(ADMIN_USER, ADMIN_PASSWORD, "admin-login"):
                raise RuntimeError(f"LOADGEN_ADMIN_USER {ADMIN_USER}: cannot log in")
            self.ledger = open(LEDGER, "a")

        def on_stop(self):
            self.ledger.close()

        @task(1)
        def restock(self):
            r = self.call("GET", PRODUCTS_URL, "/api/products?include_hidden=true&limit=1000", "/api/products",
                          "restock")
            if r.status_code != 200:
                if r.status_code == 401:
                    self.login(ADMIN_USER, ADMIN_PASSWORD, "admin-login")
                return
            sold_out = [p for p in body(r).get("results", []) if p.get("stock") == 0]
            for p in sold_out[:3]:
                # Only sold-out products, read again just before, under the lock the
                # cancels take: nothing can change the stock between the read and the
                # write, so the ledger's "before" is exact (the soak's invariant needs it).
                with restock_lock:
                    g = self.call("GET", PRODUCTS_URL, f"/api/product/{p['id']}", "/api/product/{id_or_slug}",
                                  "restock")
                    before = body(g).get("result", {}).get("stock") if g.status_code == 200 else None
                    if before != 0:
                        continue
                    w = self.call("PATCH", PRODUCTS_URL, f"/api/product/{p['id']}", "/api/product/{id_or_slug}",
                                  "restock", json={"stock": RESTOCK_UNITS})
                    if w.status_code == 200:
                        after = body(w).get("result", {}).get("stock")
                        self.ledger.write(json.dumps({"at": time.time(), "product": p["id"], "before": before,
                                                      "after": after}) + "\n")
                        self.ledger.flush()

        @task(2)
        def ship(self):
            if "ship" in features:
                return
            r = self.call("GET", ORDERS_URL, "/api/orders?status=placed,paid&limit=20", "/api/orders", "ship")
            if r.status_code != 200:
                if r.status_code == 401:
                    self.login(ADMIN_USER, ADMIN_PASSWORD, "admin-login")
                return
            results = body(r).get("results", [])
            if results and "status" not in results[0]:
                features.setdefault("ship", "orders have no status (contract before v1.3)")
                return
            for o in [o for o in results if o.get("status") in ("placed", "paid")][:3]:
                tracking = "LG" + uuid.uuid4().hex[:12].upper()
                s = self.call("POST", ORDERS_URL, f"/api/order/{o['id']}/ship", "/api/order/{id}/ship", "ship",
                              json={"tracking_number": tracking}, headers=idem())
                if no_such_route(s):
                    features.setdefault("ship", "POST /api/order/{id}/ship: 404 No such route")
                    return
                if s.status_code == 200 and random.random() < 0.5 and "deliver" not in features:
                    d = self.call("POST", ORDERS_URL, f"/api/order/{o['id']}/deliver", "/api/order/{id}/deliver",
                                  "ship", headers=idem())
                    if no_such_route(d):
                        features.setdefault("deliver", "POST /api/order/{id}/deliver: 404 No such route")
