"""Roll-up cost: bulk-create children through the record service under a parent with 3 roll-ups
(count, sum, max) and, interleaved batch by batch in the same run, into an identical object whose
parent has none; then `rebuild_s`: rebuilding the three roll-ups over 10 x N children.

Children point at N/100 parents (at least 10), chosen at random. The extra 9 x N children for the
rebuild are inserted with Core (their roll-ups are then rebuilt, which is what is timed).
Prints one line per back end and, last, one JSON object; `ratio` = rows/s with roll-ups over
rows/s without (the lower of the back ends).

usage: python bench/rollups.py [--n 100000] [--batch 1000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import on_each_backend
from metacrm.config import Settings
from metacrm.store import rollups
from metacrm.store.services import Services


def objects(prefix: str, with_rollups: bool) -> list[tuple[str, str, dict[str, Any]]]:
    parent, child = f"{prefix}_parent", f"{prefix}_child"
    props: dict[str, Any] = {"name": {"x-field": "text"}}
    if with_rollups:
        props |= {
            "children": {"x-field": "rollup", "x-rollup": {"object": child, "via": "parent", "agg": "count"}},
            "total": {"x-field": "rollup", "x-rollup": {"object": child, "via": "parent", "agg": "sum", "field": "amount"}},
            "biggest": {"x-field": "rollup", "x-result": "decimal",
                        "x-rollup": {"object": child, "via": "parent", "agg": "max", "field": "amount"}},
        }
    return [("object", parent, {"$id": parent, "type": "object", "properties": props}),
            ("object", child, {"$id": child, "type": "object", "properties": {
                "name": {"x-field": "text"}, "amount": {"x-field": "decimal"},
                "parent": {"x-field": "relation", "x-target": parent}}})]


def run(url: str, n: int, batch: int, label: str) -> dict[str, Any]:
    svc = Services.from_settings(Settings(database_url=url, secret_key="bench", instance_dir=Path(tempfile.mkdtemp())))
    svc.init()
    svc.metadata.apply(objects("bench_ru", True) + objects("bench_no", False))
    parents_n = max(10, n // 100)
    with_ids = svc.records.bulk_create("bench_ru_parent", [{"name": f"p{i}"} for i in range(parents_n)]).ids
    plain_ids = svc.records.bulk_create("bench_no_parent", [{"name": f"p{i}"} for i in range(parents_n)]).ids
    rng = random.Random(7)
    picks = [rng.randrange(parents_n) for _ in range(n)]
    amounts = [f"{rng.randint(1, 10_000_000) / 100:.2f}" for _ in range(n)]
    with_s = without_s = 0.0
    for i in range(0, n, batch):
        part = range(i, min(n, i + batch))
        start = time.perf_counter()
        svc.records.bulk_create("bench_no_child", [{"name": f"c{j}", "amount": amounts[j], "parent": plain_ids[picks[j]]}
                                                   for j in part])
        without_s += time.perf_counter() - start
        start = time.perf_counter()
        svc.records.bulk_create("bench_ru_child", [{"name": f"c{j}", "amount": amounts[j], "parent": with_ids[picks[j]]}
                                                   for j in part])
        with_s += time.perf_counter() - start
    snap = svc.registry.current()
    with svc.engine.connect() as conn:  # the bench checks its own answer
        for r in rollups.rollups_of(snap, "bench_ru_parent"):
            assert rollups.verify(conn, snap, r, fix=False) == [], r.name
    # 9 x N more children behind the service's back, then the timed rebuild of all three roll-ups
    table = snap.tables["bench_ru_child"]
    now = datetime.now(UTC)
    for i in range(0, 9 * n, 5000):
        rows = [{"name": "x", "amount": Decimal(rng.randint(1, 10_000_000)) / 100, "parent": with_ids[rng.randrange(parents_n)],
                 "created_at": now, "updated_at": now, "version": 1} for _ in range(min(5000, 9 * n - i))]
        with svc.engine.begin() as conn:
            conn.execute(table.insert(), rows)
    start = time.perf_counter()
    for r in rollups.rollups_of(snap, "bench_ru_parent"):
        rollups.rebuild(svc.engine.begin, snap, r)
    rebuild_s = time.perf_counter() - start
    with svc.engine.connect() as conn:
        for r in rollups.rollups_of(snap, "bench_ru_parent"):
            assert rollups.verify(conn, snap, r, fix=False) == [], r.name
    svc.close()
    result = {"backend": label, "n": n, "parents": parents_n, "with_rollups_rows_per_s": round(n / with_s),
              "without_rows_per_s": round(n / without_s), "ratio": round(without_s / with_s, 3),
              "rebuild_children": 10 * n, "rebuild_s": round(rebuild_s, 2)}
    print(f"{label:10} with 3 roll-ups {result['with_rollups_rows_per_s']:>7} rows/s   without "
          f"{result['without_rows_per_s']:>7} rows/s   ratio {result['ratio']}   rebuild over {10 * n} "
          f"children {result['rebuild_s']} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = on_each_backend(args.pg_url, lambda url, backend: run(url, args.n, args.batch, backend))
    print(json.dumps({"bench": "rollups", "results": results, "ratio": min(r["ratio"] for r in results),
                      "rebuild_s": max(r["rebuild_s"] for r in results)}))


if __name__ == "__main__":
    main()
