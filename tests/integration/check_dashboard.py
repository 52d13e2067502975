#!/usr/bin/env python3
"""Checks the Grafana dashboard: valid JSON, every query names only metrics that podvsd exports,
and (given a Prometheus URL) every query is accepted by a real Prometheus.

usage: check_dashboard.py DASHBOARD.json METRICS.txt [PROMETHEUS_URL]
"""
import json
import re
import sys
import urllib.parse
import urllib.request


def main():
    dashboard = json.load(open(sys.argv[1]))
    exported = set(re.findall(r"^(podvs_[a-z0-9_]+)", open(sys.argv[2]).read(), re.M))
    prometheus = sys.argv[3] if len(sys.argv) > 3 else None
    failures = 0
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    for expr in queries:
        for name in set(re.findall(r"\b(podvs_[a-z0-9_]+)", expr)):
            if name not in exported:
                print(f"FAIL: {name} in {expr!r} is not exported by podvsd")
                failures += 1
        if prometheus and not expr.startswith("label_values"):
            q = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
            url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
            answer = json.load(urllib.request.urlopen(url, timeout=5))
            if answer.get("status") != "success":
                print(f"FAIL: Prometheus rejects {q!r}: {answer}")
                failures += 1
    print(f"{len(queries)} queries checked, {failures} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
