"""Bulk create through the record service with an assignment rule (territory + round robin) vs without.

Two objects of the same shape; one has an on-create assignment definition: a territory entry
(three city territories, round robin inside each, per-day capacity) and a round-robin fallback
over every rep. Both are filled through the record service in batches of --batch rows, one
transaction each, interleaved batch by batch. Each assigned batch takes its turns with one
cursor statement per territory and moves the capacity counters on the limits ledger.
Prints one line per back end and, last, one JSON object; `ratio` = with rule / without (rows/s).

usage: python bench/assignment.py [--n 100000] [--batch 1000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import on_each_backend
from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.store.users import ensure_user
from records import OBJECT, make_rows

REPS = [f"rep{i}" for i in range(7)]


def rule(n: int) -> dict[str, Any]:
    return {"name": "bench_routing", "label": {"en": "Bench routing"}, "object": "bench_lead", "entries": [
        {"name": "regions", "strategy": "territory", "capacity": {"per_day": n},
         "territories": [
             {"name": "east", "when": {"field": "city", "op": "in", "value": ["上海", "杭州"]}, "users": REPS[:3]},
             {"name": "north", "when": {"field": "city", "op": "eq", "value": "北京"}, "users": REPS[3:5]},
             {"name": "south", "when": {"field": "city", "op": "in", "value": ["深圳", "广州"]}, "users": REPS[5:]}],
         "fallback": {"users": REPS}}]}


def run(url: str, n: int, batch: int, label: str) -> dict[str, Any]:
    svc = build_services(Settings(database_url=url, secret_key="bench"))
    svc.init()
    with svc.engine.begin() as conn:
        for name in REPS:
            ensure_user(conn, name)
    svc.metadata.apply([("object", "bench_lead", OBJECT), ("object", "bench_plain", {**OBJECT, "$id": "bench_plain"})])
    svc.metadata.apply([("assignment", "bench_routing", rule(n))])
    rows = make_rows(n)
    plain_s = routed_s = 0.0
    for i in range(0, n, batch):
        start = time.perf_counter()
        svc.records.bulk_create("bench_plain", rows[i:i + batch])
        plain_s += time.perf_counter() - start
        start = time.perf_counter()
        svc.records.bulk_create("bench_lead", rows[i:i + batch])
        routed_s += time.perf_counter() - start
    table = svc.registry.current().tables["bench_lead"]
    with svc.engine.connect() as conn:
        owners = Counter(conn.execute(table.select().with_only_columns(table.c.owner_id)).scalars())
    assert None not in owners and sum(owners.values()) == n, owners
    svc.close()
    result = {"backend": label, "n": n, "plain_rows_per_s": round(n / plain_s),
              "routed_rows_per_s": round(n / routed_s), "ratio": round(plain_s / routed_s, 3),
              "owners": len(owners), "max_minus_min": max(owners.values()) - min(owners.values())}
    print(f"{label:10} no rule {result['plain_rows_per_s']:>8} rows/s   territory + round robin "
          f"{result['routed_rows_per_s']:>8} rows/s   ratio {result['ratio']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = on_each_backend(args.pg_url, lambda url, backend: run(url, args.n, args.batch, backend))
    print(json.dumps({"bench": "assignment", "results": results, "ratio": min(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
