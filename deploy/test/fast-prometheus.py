#!/usr/bin/env python3
"""A test-only copy of compose's Prometheus configuration and Cartwheel's rules, with
the clocks shortened so that the deploy test sees each alert fire and resolve in
minutes (deploy/test/alerts.sh):

  - scrape and evaluation every 5 s (rule groups too), service discovery every 5 s;
  - every alert's `for:` divided by 30, at least 5 s (10m -> 20s, 5m -> 10s, 1m -> 5s).

Nothing else changes: the expressions, thresholds and rate windows are the real ones
(deploy/prometheus/rules/*.yml), read from the repository at every run.

    fast-prometheus.py OUT_DIR      # writes OUT_DIR/prometheus.yml and OUT_DIR/rules/*.yml
"""
import glob
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEP = "5s"


def seconds(d: str) -> int:
    total = 0
    for n, unit in re.findall(r"(\d+)([smhd])", d):
        total += int(n) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return total


def main(out: str) -> int:
    os.makedirs(os.path.join(out, "rules"), exist_ok=True)
    conf = yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/prometheus.yml")))
    conf["global"]["scrape_interval"] = STEP
    conf["global"]["evaluation_interval"] = STEP
    conf["global"]["scrape_timeout"] = "4s"
    for job in conf.get("scrape_configs", []):
        for sd in job.get("dns_sd_configs", []):
            sd["refresh_interval"] = STEP
    with open(os.path.join(out, "prometheus.yml"), "w") as f:
        f.write("# GENERATED for the deploy test by deploy/test/fast-prometheus.py: not for production.\n")
        yaml.safe_dump(conf, f, sort_keys=False)
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/prometheus/rules/*.yml"))):
        doc = yaml.safe_load(open(path))
        for group in doc.get("groups", []):
            group["interval"] = STEP
            for rule in group.get("rules", []):
                if "alert" in rule and "for" in rule:
                    rule["for"] = f"{max(5, seconds(str(rule['for'])) // 30)}s"
        with open(os.path.join(out, "rules", os.path.basename(path)), "w") as f:
            f.write(f"# GENERATED for the deploy test from {os.path.relpath(path, ROOT)}: shorter clocks only.\n")
            yaml.safe_dump(doc, f, sort_keys=False)
    for p in glob.glob(os.path.join(out, "**"), recursive=True):
        os.chmod(p, 0o755 if os.path.isdir(p) else 0o644)  # the image's prometheus user reads them
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
