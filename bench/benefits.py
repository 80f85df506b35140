"""Benefit redemptions/s through the benefit engine vs bare conditional UPDATE ... RETURNING on one row.

Each redemption (one transaction, one-phase consume): the benefit's eligibility rule on the member,
the idempotency row, the member's period counter, the budget and the total counter moved by one
conditional upsert, the ledger rows and the audit line. The baseline, in the same run with the
same pool and threads: the same number of transactions that each run one conditional
`UPDATE limit_counter SET used = used + 1 WHERE ... AND used + 1 <= cap RETURNING used` on one
counter row. Both commit a hot row per transaction, which dominates both.
Prints one line per back end and, last, one JSON object; `ratio` = redemptions/s / bare updates/s.

usage: python bench/benefits.py [--n 20000] [--threads 16] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from sqlalchemy import update

from leadgen import on_each_backend
from metacrm.config import Settings
from metacrm.engines import benefits
from metacrm.engines.wiring import build_services
from metacrm.store import limits
from metacrm.store.db import make_engine

MEMBER = {"$id": "member", "title": "Member", "type": "object", "properties": {
    "member_no": {"x-field": "text", "maxLength": 32}, "status": {"x-field": "select", "enum": ["active", "frozen"]}}}
MEMBERS = 2000


def _threads(n: int, total: int, fn: Any) -> float:
    per = [total // n + (1 if i < total % n else 0) for i in range(n)]
    workers = [threading.Thread(target=fn, args=(i, per[i])) for i in range(n)]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return time.perf_counter() - start


def run(url: str, n: int, threads: int, label: str) -> dict[str, Any]:
    kw = {} if url.startswith("sqlite") else {"pool_size": threads, "max_overflow": 0}
    svc = build_services(Settings(database_url=url, secret_key="bench"), make_engine(url, **kw))
    svc.init()
    svc.metadata.apply([("object", "member", MEMBER)])
    ids = svc.records.bulk_create("member", [{"member_no": f"M{i}", "status": "active"}
                                             for i in range(MEMBERS)]).ids
    svc.metadata.apply([("benefit", "bench", {
        "key": "bench", "label": {"en": "Bench"}, "total_quota": n * 2, "unit_cost": 100, "budget_cap": n * 1000,
        "eligibility": {"field": "status", "op": "eq", "value": "active"},
        "per_member_limit": {"count": n, "period": "month"}})])
    with svc.engine.begin() as conn:
        limits.set_limit(conn, "bench:bare", n * 2)
    failures: list[str] = []

    def redeem(worker: int, count: int) -> None:
        for i in range(count):
            try:
                benefits.attempt(svc, benefits.Request("bench", ids[(worker * 7919 + i) % MEMBERS], 1,
                                                       f"b-{worker}-{i}"))
            except Exception as exc:
                failures.append(repr(exc))

    c = limits.counters.c

    def bare(worker: int, count: int) -> None:
        for _ in range(count):
            with svc.engine.begin() as conn:
                conn.execute(update(limits.counters).where(c.key == "bench:bare", c.period_key == "",
                                                           c.used + 1 <= c.cap)
                             .values(used=c.used + 1).returning(c.used)).scalar_one()

    bare_s = _threads(threads, n, bare)
    engine_s = _threads(threads, n, redeem)
    with svc.engine.connect() as conn:
        assert limits.counter(conn, "bf:bench")["used"] == n - len(failures)
        assert limits.verify(conn, "bf:bench") == []
    svc.close()
    result = {"backend": label, "n": n, "threads": threads, "redemptions_per_s": round(n / engine_s),
              "bare_updates_per_s": round(n / bare_s), "ratio": round(bare_s / engine_s, 3),
              "failures": len(failures)}
    print(f"{label:10} redemptions {result['redemptions_per_s']:>7}/s   bare UPDATE ... RETURNING "
          f"{result['bare_updates_per_s']:>7}/s   ratio {result['ratio']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = on_each_backend(args.pg_url, lambda url, backend: run(url, args.n, args.threads, backend))
    print(json.dumps({"bench": "benefits", "results": results, "ratio": min(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
