"""Unit tests of the generator's judge (python3 -m unittest discover -s loadgen)."""
import os
import tempfile
import unittest

import report
from report import Answer


def a(status, ms=10.0, start=100.0, ra=False, route="/api/products", method="GET"):
    return Answer(start=start, ms=ms, method=method, route=route, status=status, retry_after=ra)


class Judge(unittest.TestCase):
    def test_503_with_retry_after_is_not_an_error_and_without_it_is(self):
        routes = report.summarise([a(503, ra=True), a(503), a(502), a(500), a(404), a(429, ra=True), a(0)])
        self.assertEqual(routes["GET /api/products"].errors, 4)  # 503 bare, 502, 500, no answer

    def test_over_ten_seconds_is_slow(self):
        routes = report.summarise([a(200, ms=10_000), a(200, ms=10_001)])
        self.assertEqual(routes["GET /api/products"].slow, 1)
        self.assertTrue(report.judge(routes, {}))

    def test_in_flight_at_a_kill_is_counted_apart(self):
        kill = 200.0
        answers = [
            a(502, start=199.0, ms=1500),   # sent before, answered after: apart
            a(502, start=190.0, ms=100),    # long before: counts
            a(502, start=205.0, ms=5),      # after the kill: counts
        ]
        s = report.summarise(answers, [kill])["GET /api/products"]
        self.assertEqual((s.killed, s.errors), (1, 2))

    def test_budget_needs_samples_and_factor(self):
        answers = [a(200, ms=float(i)) for i in range(1, 101)]  # p99 = 99 ms
        routes = report.summarise(answers)
        self.assertEqual(routes["GET /api/products"].p99, 99)
        self.assertEqual(routes["GET /api/products"].p50, 50)
        self.assertFalse(report.judge(routes, {"GET /api/products": 20}, factor=5))  # 99 < 100
        self.assertTrue(report.judge(routes, {"GET /api/products": 19}, factor=5))   # 99 > 95
        self.assertFalse(report.judge(routes, {"GET /api/products": 1}, min_samples=101))

    def test_csv_round_trip_skips_a_cut_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            f.write(",".join(report.FIELDS) + "\n")
            f.write("100.5,12.0,GET,/api/products,200,0,browse\n")
            f.write("101.0,7.5,POST,/api/order/checkout,503,1,checkout\n")
            f.write("102.0,3")  # the generator died mid-line
        try:
            got = report.read_answers(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(len(got), 2)
        self.assertTrue(got[1].retry_after)
        self.assertFalse(got[1].error)


if __name__ == "__main__":
    unittest.main()
