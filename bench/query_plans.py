"""Planner statistics: one segment question before and after `refresh_statistics` (store/statistics.py).

"Leads with 3 or more calls in the last 90 days", counted through the rule compiler over --n leads
(default 90,000) and --activities activities (default 75,000), loaded set-based and never analysed
(as a fresh SQLite database is), then the same count after `refresh_statistics`, which the
migrations, imports, bulk writes, the demo load and the daily maintenance pass run. Without
statistics SQLite drives the count from the (type, due_at) index of activities; the run is cut at
--timeout seconds. The bench fails (exit 1) unless the analysed count is at least 10x faster and
gives the same answer. Runs on SQLite and, when it answers, PostgreSQL.

usage: python bench/query_plans.py [--n 90000] [--activities 75000] [--timeout 30] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import drop_schema, pg_schema
from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.rules import to_sql
from metacrm.store.statistics import refresh_statistics
from segments import ACTIVITY, CITIES, DAY, LEAD, NOW, STATUSES, TYPES, _case, _hash, _instant, _series

RULE = {"related": {"object": "activity", "via": "lead"}, "agg": "count", "op": "gte", "value": 3,
        "where": {"all": [{"field": "type", "op": "eq", "value": "call"},
                          {"field": "due_at", "op": "within_last", "value": {"amount": 90, "unit": "day"}}]}}


def load(conn: Any, n: int, activities: int) -> None:
    d = conn.dialect.name
    created = _instant(d, _hash(0, 400 * DAY))
    conn.execute(text(
        f"INSERT INTO obj_lead (id, name, city, status, score, created_at, updated_at, version) "
        f"SELECT g, 'lead ' || g, {_case(_hash(1, len(CITIES)), CITIES)}, "
        f"{_case(_hash(2, 5), STATUSES)}, {_hash(3, 101)}, {created}, {created}, 1 FROM {_series(d, n)}"))
    due = _instant(d, _hash(4, 120 * DAY))
    # activities concentrate on a tenth of the leads, so some have 3+ calls
    conn.execute(text(
        f"INSERT INTO obj_activity (id, subject, type, lead, due_at, created_at, updated_at, version) "
        f"SELECT g, 'activity ' || g, {_case(_hash(5, 6), TYPES)}, {_hash(6, max(1, n // 10))} + 1, {due}, {due}, "
        f"{due}, 1 FROM {_series(d, activities)}"))


def count(svc: Any, timeout: float) -> tuple[float | None, int | None]:
    snap = svc.registry.current()
    t = snap.tables["lead"]
    query = select(func.count()).select_from(t).where(t.c.deleted_at.is_(None),
                                                      to_sql(RULE, "lead", snap, now=NOW, tz="UTC"))
    with svc.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        deadline = time.perf_counter() + timeout
        if conn.dialect.name == "sqlite":
            raw.set_progress_handler(lambda: int(time.perf_counter() > deadline), 10_000)
        else:
            conn.execute(text(f"SET statement_timeout = {int(timeout * 1000)}"))
        start = time.perf_counter()
        try:
            found = conn.execute(query).scalar_one()
        except DBAPIError:  # interrupted at the deadline
            return None, None
        finally:
            if conn.dialect.name == "sqlite":
                raw.set_progress_handler(None, 0)
        return time.perf_counter() - start, found


def run(url: str, n: int, activities: int, timeout: float, label: str) -> dict[str, Any]:
    svc = build_services(Settings(database_url=url, secret_key="bench"))
    svc.init()
    svc.metadata.apply([("object", "lead", LEAD), ("object", "activity", ACTIVITY)])
    with svc.engine.begin() as conn:
        load(conn, n, activities)
    before, found_before = count(svc, timeout)
    start = time.perf_counter()
    analysed = refresh_statistics(svc.engine, ["obj_lead", "obj_activity"])
    refresh_s = time.perf_counter() - start
    after, found = count(svc, timeout)
    svc.close()
    result = {"backend": label, "leads": n, "activities": activities, "analysed": analysed,
              "refresh_ms": round(refresh_s * 1000, 1), "rows": found,
              "unanalysed_ms": None if before is None else round(before * 1000, 1),
              "unanalysed_timed_out": before is None, "analysed_ms": None if after is None else round(after * 1000, 1)}
    base = timeout if before is None else before
    result["ratio"] = None if after is None else round(base / max(after, 1e-4), 1)
    result["ok"] = after is not None and (found_before is None or found_before == found) and result["ratio"] >= 10
    print(f"{label:10} unanalysed {result['unanalysed_ms'] or f'> {timeout * 1000:.0f}'} ms, analysed "
          f"{result['analysed_ms']} ms ({found} leads), refresh {result['refresh_ms']} ms", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=90_000)
    parser.add_argument("--activities", type=int, default=75_000)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{tmp}/plans.db", args.n, args.activities, args.timeout, "sqlite"))
    if args.only != "sqlite":
        schema_url = pg_schema(args.pg_url)
        if schema_url:
            try:
                results.append(run(schema_url[0], args.n, args.activities, args.timeout, "postgresql"))
            finally:
                drop_schema(args.pg_url, schema_url[1])
    print(json.dumps({"bench": "query_plans", "results": results, "ok": all(r["ok"] for r in results)}))
    sys.exit(0 if results and results[0]["ok"] else 1)


if __name__ == "__main__":
    main()
