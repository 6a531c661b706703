#!/usr/bin/env python3
"""The soak's OpenAPI gate: every answer the load generator recorded (LOADGEN_BODIES,
JSON lines of [start, method, route, status, content_type, body]) is checked against
its service's OpenAPI document:

  - the route and method are in the document (routes are recorded templated, as the
    documents name them: /api/product/{id_or_slug});
  - the status is one the document lists for that operation;
  - a JSON body validates against the schema the document gives for that status
    (JSON Schema 2020-12, as OpenAPI 3.1 says; `jsonschema` from PyPI, in the
    generator's virtual environment: loadgen/requirements.txt).

    contract.py BODIES.jsonl [--doc users=URL|FILE ...] [--json OUT]

Documents: each service's live /api-docs/openapi.json by default (LOADGEN_USERS_URL,
LOADGEN_PRODUCTS_URL, LOADGEN_ORDERS_URL: the images under test), else the checked-in
docs/openapi/api-*.json. Exit 1 on any answer outside its document; the first few of
each kind are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import urllib.request

from jsonschema import Draft202012Validator

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "docs", "openapi")
SERVICES = {
    "users": os.environ.get("LOADGEN_USERS_URL", "http://127.0.0.1:5001").rstrip("/"),
    "products": os.environ.get("LOADGEN_PRODUCTS_URL", "http://127.0.0.1:5002").rstrip("/"),
    "orders": os.environ.get("LOADGEN_ORDERS_URL", "http://127.0.0.1:5003").rstrip("/"),
}


def load_doc(name: str, where: str | None) -> tuple[dict, str]:
    if where and os.path.exists(where):
        return json.load(open(where)), where
    base = where or SERVICES[name]
    url = base if base.endswith(".json") else base + "/api-docs/openapi.json"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read()), url
    except Exception as e:  # noqa: BLE001
        path = os.path.join(DOCS, f"api-{name}.json")
        print(f"contract: {url} unreadable ({e}); using {path}", file=sys.stderr)
        return json.load(open(path)), path


class Contract:
    def __init__(self, docs: dict[str, dict]):
        # (METHOD, path) -> {status: validator or None (no JSON body documented)}
        self.ops: dict[tuple[str, str], dict[str, Draft202012Validator | None]] = {}
        for doc in docs.values():
            components = doc.get("components", {})
            for path, item in doc.get("paths", {}).items():
                for method, op in item.items():
                    if method not in ("get", "post", "put", "patch", "delete", "head"):
                        continue
                    statuses = {}
                    for status, resp in (op.get("responses") or {}).items():
                        if "$ref" in resp:
                            resp = components.get("responses", {}).get(resp["$ref"].rsplit("/", 1)[1], {})
                        schema = ((resp.get("content") or {}).get("application/json") or {}).get("schema")
                        if schema is None:
                            statuses[status] = None
                            continue
                        root = dict(schema)
                        root["components"] = components  # "#/components/schemas/X" resolves here
                        statuses[status] = Draft202012Validator(root)
                    self.ops[(method.upper(), path)] = statuses
        self.seen: dict[str, str | None] = {}

    def check(self, method: str, route: str, status: int, content_type: str, body: str | None) -> str | None:
        """None when the answer is in the document, else why it is not."""
        statuses = self.ops.get((method, route))
        if statuses is None:
            return f"{method} {route} is not in the document"
        documented = statuses.get(str(status), statuses.get(f"{str(status)[0]}XX", statuses.get("default", False)))
        if documented is False:
            return f"status {status} is not documented (documented: {', '.join(sorted(statuses))})"
        if documented is None or body is None:
            if documented is not None and body is None and "json" not in content_type and status != 304:
                return f"status {status}: a JSON body is documented, the answer is {content_type or 'without a type'}"
            return None
        key = hashlib.sha1(f"{method} {route} {status}\0{body}".encode()).hexdigest()
        if key in self.seen:  # a catalogue page answered a thousand times is judged once
            return self.seen[key]
        try:
            doc = json.loads(body)
        except ValueError as e:
            why = f"status {status}: the body is not JSON ({e})"
        else:
            error = next(iter(sorted(documented.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
            why = None if error is None else (
                f"status {status}: body at /{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
            )
        self.seen[key] = why
        return why


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bodies")
    ap.add_argument("--doc", action="append", default=[], help="SERVICE=URL-or-FILE (users, products, orders)")
    ap.add_argument("--json", help="write the verdict per route here")
    args = ap.parse_args(argv)
    given = dict(d.split("=", 1) for d in args.doc)
    docs = {}
    for name in SERVICES:
        docs[name], source = load_doc(name, given.get(name))
        print(f"contract: {name}: {source}")
    contract = Contract(docs)
    checked, bad = 0, {}
    with open(args.bodies) as f:
        for line in f:
            try:
                start, method, route, status, content_type, body = json.loads(line)
            except ValueError:
                continue  # a line cut by the generator's end
            checked += 1
            why = contract.check(method, route, int(status), content_type or "", body)
            if why:
                bad.setdefault((f"{method} {route}", why), []).append(start)
    for (key, why), starts in sorted(bad.items(), key=lambda kv: -len(kv[1]))[:20]:
        print(f"  {len(starts):>5} x {key}: {why} (first at {starts[0]:.1f})")
    total_bad = sum(len(v) for v in bad.values())
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"checked": checked, "outside": total_bad,
                       "problems": [{"route": k, "why": w, "count": len(s)} for (k, w), s in bad.items()]}, f, indent=1)
    if total_bad:
        print(f"FAIL: {total_bad} of {checked} answers are outside the services' OpenAPI documents")
        return 1
    if not checked:
        print("FAIL: no answers recorded (LOADGEN_BODIES)")
        return 1
    print(f"contract: all {checked} answers are in the OpenAPI documents (status and body; "
          f"{len(contract.seen)} distinct bodies validated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
