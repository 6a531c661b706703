#!/usr/bin/env python3
"""The load generator's record of every answer, and what is judged from it.

Pure standard library, so the soak script can judge a run without Locust:

    python3 loadgen/report.py ANSWERS.csv [--kill-at EPOCH ...] [--budgets loadgen/budgets.json]
                              [--budget-factor 5] [--min-samples 50] [--json OUT]

An answer is one line of ANSWERS.csv (written by locustfile.py):

    start,ms,method,route,status,retry_after,journey,note

`start` is the epoch second the request was sent, `ms` how long its answer took,
`route` the templated route (`/api/product/{id_or_slug}`), `status` 0 when no answer
came (connection refused or reset, or the client's timeout), `retry_after` 1 when the
answer carried a `Retry-After` header, `note` why no answer came (status 0).

What counts against the shop:
  - error: a 5xx other than 503 with Retry-After, or no answer at all;
  - slow: an answer that took over 10 s (the contract's time limit);
  - over budget: a route's p99 above FACTOR x its budget in budgets.json (only for
    routes with at least --min-samples answers: a p99 of a handful is their maximum).
Answers in flight at a --kill-at moment (sent before it, answered after it) are
counted apart: a SIGKILLed replica may drop them, the contract cannot promise more.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass, field

SLOW_MS = 10_000.0
FIELDS = ["start", "ms", "method", "route", "status", "retry_after", "journey", "note"]


@dataclass
class Answer:
    start: float
    ms: float
    method: str
    route: str
    status: int
    retry_after: bool
    journey: str = ""
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def error(self) -> bool:
        """A 5xx other than 503 + Retry-After, or no answer at all."""
        if self.status == 0:
            return True
        if self.status >= 500:
            return not (self.status == 503 and self.retry_after)
        return False

    @property
    def slow(self) -> bool:
        return self.ms > SLOW_MS

    def in_flight_at(self, moment: float, slack: float = 0.5) -> bool:
        """Sent before `moment` and answered after it (with `slack` seconds either
        side for the time a signal takes to land and a reset to come back)."""
        return self.start - slack <= moment <= self.start + self.ms / 1000.0 + slack


def read_answers(path: str) -> list[Answer]:
    answers = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                answers.append(
                    Answer(
                        start=float(row["start"]),
                        ms=float(row["ms"]),
                        method=row["method"],
                        route=row["route"],
                        status=int(row["status"]),
                        retry_after=row["retry_after"] == "1",
                        journey=row.get("journey") or "",
                        note=row.get("note") or "",
                    )
                )
            except (KeyError, ValueError, TypeError):
                continue  # a line cut by a crash of the generator
    return answers


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_ms:
        return 0.0
    rank = max(1, math.ceil(p / 100.0 * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


@dataclass
class RouteStats:
    key: str
    count: int = 0
    errors: int = 0
    slow: int = 0
    killed: int = 0  # errors in flight at a SIGKILL, counted apart
    statuses: dict = field(default_factory=dict)
    ms: list = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.ms, 99)


def summarise(answers: list[Answer], kills: list[float] = ()) -> dict[str, RouteStats]:
    routes: dict[str, RouteStats] = {}
    for a in answers:
        s = routes.setdefault(a.key, RouteStats(a.key))
        s.count += 1
        s.statuses[a.status] = s.statuses.get(a.status, 0) + 1
        s.ms.append(a.ms)
        if a.error or a.slow:
            if any(a.in_flight_at(k) for k in kills):
                s.killed += 1
                continue
            if a.error:
                s.errors += 1
            if a.slow:
                s.slow += 1
    for s in routes.values():
        s.ms.sort()
    return routes


def load_budgets(path: str | None) -> dict[str, float]:
    if not path:
        return {}
    with open(path) as f:
        doc = json.load(f)
    return {k: float(v) for k, v in doc.get("p99_ms", {}).items()}


def judge(
    routes: dict[str, RouteStats],
    budgets: dict[str, float],
    factor: float = 5.0,
    min_samples: int = 50,
) -> list[str]:
    """The reasons the run fails (empty: it passes)."""
    problems = []
    for key, s in sorted(routes.items()):
        if s.errors:
            problems.append(f"{key}: {s.errors} error answers (5xx other than 503+Retry-After, or none)")
        if s.slow:
            problems.append(f"{key}: {s.slow} answers over 10 s")
        budget = budgets.get(key)
        if budget is not None and s.count >= min_samples and s.p99 > factor * budget:
            problems.append(
                f"{key}: p99 {s.p99:.0f} ms is over {factor:g} x its budget of {budget:.0f} ms"
            )
    return problems


def table(routes: dict[str, RouteStats], budgets: dict[str, float] | None = None, seconds: float | None = None) -> str:
    budgets = budgets or {}
    keys = sorted(routes, key=lambda k: (-routes[k].count, k))
    width = max([len("route")] + [len(k) for k in keys])
    head = f"{'route':<{width}}  {'count':>7}  {'errors':>6}  {'>10s':>4}  {'kill':>4}  {'p50 ms':>7}  {'p99 ms':>7}  {'budget':>6}  statuses"
    lines = [head, "-" * len(head)]
    total = RouteStats("all")
    for k in keys:
        s = routes[k]
        total.count += s.count
        total.errors += s.errors
        total.slow += s.slow
        total.killed += s.killed
        total.ms.extend(s.ms)
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(s.statuses.items()))
        budget = budgets.get(k)
        lines.append(
            f"{k:<{width}}  {s.count:>7}  {s.errors:>6}  {s.slow:>4}  {s.killed:>4}  {s.p50:>7.0f}  {s.p99:>7.0f}  "
            f"{'' if budget is None else f'{budget:.0f}':>6}  {statuses}"
        )
    total.ms.sort()
    lines.append("-" * len(head))
    lines.append(
        f"{'all':<{width}}  {total.count:>7}  {total.errors:>6}  {total.slow:>4}  {total.killed:>4}  {total.p50:>7.0f}  {total.p99:>7.0f}"
    )
    if seconds:
        lines.append(f"{total.count} answers in {seconds:.0f} s: {total.count / seconds:.1f} req/s")
    return "\n".join(lines)


def failures(answers: list[Answer], kills: list[float] = ()) -> str:
    """The failed answers, grouped by route, status and note (at most 10 lines)."""
    groups: dict[tuple, list[Answer]] = {}
    for a in answers:
        if a.error or a.slow:
            apart = any(a.in_flight_at(k) for k in kills)
            groups.setdefault((a.key, a.status, a.note, apart), []).append(a)
    lines = []
    for (key, status, note, apart), group in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:10]:
        when = ", ".join(f"{x.start:.1f}" for x in group[:3]) + (" ..." if len(group) > 3 else "")
        lines.append(f"  {len(group):>4} x {key} {status or 'no answer'}{' (' + note + ')' if note else ''}"
                     f"{' [in flight at the SIGKILL]' if apart else ''} at {when}")
    return "\n".join(lines)


def as_json(routes: dict[str, RouteStats]) -> dict:
    return {
        k: {
            "count": s.count,
            "errors": s.errors,
            "slow": s.slow,
            "killed": s.killed,
            "p50_ms": round(s.p50, 1),
            "p99_ms": round(s.p99, 1),
            "statuses": {str(c): n for c, n in sorted(s.statuses.items())},
        }
        for k, s in sorted(routes.items())
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("answers")
    ap.add_argument("--kill-at", type=float, action="append", default=[], help="epoch second of a SIGKILL")
    ap.add_argument("--budgets", help="budgets.json (p99_ms per 'METHOD /route')")
    ap.add_argument("--budget-factor", type=float, default=5.0)
    ap.add_argument("--min-samples", type=int, default=50)
    ap.add_argument("--json", help="write the per-route figures here")
    ap.add_argument("--write-budgets", metavar="FILE",
                    help="write budgets from this run: each route's p99 x --budget-multiplier "
                         "(rounded up to 10 ms, at least --budget-floor), for routes with --min-samples answers")
    ap.add_argument("--budget-multiplier", type=float, default=3.0)
    ap.add_argument("--budget-floor", type=float, default=200.0,
                    help="the least budget (ms): a soak's restarts cost any route one answer of about "
                         "0.5 s (the balancer's connect timeout to a stopped replica)")
    args = ap.parse_args(argv)

    answers = read_answers(args.answers)
    if not answers:
        print(f"report: no answers in {args.answers}", file=sys.stderr)
        return 1
    routes = summarise(answers, args.kill_at)
    budgets = load_budgets(args.budgets)
    seconds = max(a.start + a.ms / 1000 for a in answers) - min(a.start for a in answers)
    print(table(routes, budgets, seconds))
    failed = failures(answers, args.kill_at)
    if failed:
        print("failed or slow answers:\n" + failed)
    if args.kill_at:
        killed = sum(s.killed for s in routes.values())
        print(f"in flight at the SIGKILL ({len(args.kill_at)}): {killed} answers failed or slow, counted apart")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds": seconds, "routes": as_json(routes)}, f, indent=1)
    if args.write_budgets:
        measured = {k: s for k, s in routes.items() if s.count >= args.min_samples}
        doc = {
            "about": (
                "p99 budgets per route in ms: a soak run's p99 x "
                f"{args.budget_multiplier:g}, rounded up to 10 ms, at least {args.budget_floor:g} ms (loadgen/report.py --write-budgets). "
                "The soak fails a route whose p99 passes 5 x its budget; the alert CartwheelP99OverBudget "
                "fires past 1 x (deploy/prometheus/budgets-to-rules.py)."
            ),
            "measured": {k: {"count": s.count, "p50_ms": round(s.p50), "p99_ms": round(s.p99)} for k, s in sorted(measured.items())},
            "p99_ms": {
                k: max(int(args.budget_floor), int(math.ceil(s.p99 * args.budget_multiplier / 10.0)) * 10)
                for k, s in sorted(measured.items())
            },
        }
        with open(args.write_budgets, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"report: budgets for {len(measured)} routes written to {args.write_budgets}")
    problems = judge(routes, budgets, args.budget_factor, args.min_samples)
    for p in problems:
        print(f"FAIL: {p}")
    if not problems:
        print("report: no 5xx (but 503 with Retry-After), no answer over 10 s" + (", every p99 within budget" if budgets else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
