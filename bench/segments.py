"""Segment rules compiled to SQL vs hand-written SQL for the same question, and in-memory speed.

Builds --n leads (default 1,000,000) with about 1.9 tag links and 0.5 activities per lead,
generated set-based inside the database (deterministic arithmetic on a number series, the same
data on both back ends), with indexes on city, score and status, the tag-link indexes and
ANALYZE. Then, for five typical segment questions, times the query compiled from the rule and a
hand-written query giving the same answer (warm, interleaved, median of --repeat runs), checks
both answers are equal, and prints both times and their ratio. Last, times in-memory evaluation
of a simple rule over real rows. Runs on SQLite and, when it answers, PostgreSQL.

usage: python bench/segments.py [--n 1000000] [--repeat 5] [--pg-url URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import drop_schema, pg_schema, sql_case, sql_hash, sql_series
from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.rules import EvalContext, matcher, matches, to_sql
from metacrm.rules.timeutil import zone

CITIES = ["shanghai", "beijing", "shenzhen", "guangzhou", "hangzhou", "chengdu", "nanjing", "wuhan", "suzhou",
          "xian", "chongqing", "tianjin", "hong_kong", "singapore", "tokyo", "london", "new_york",
          "san_francisco", "other", "qingdao"]
STATUSES = ["new", "contacted", "qualified", "unqualified", "converted"]
TYPES = ["call", "visit", "meeting", "email", "task", "note"]
# tag -> (hash column, modulus): lead g has the tag when sql_hash(column, modulus) = 0
TAGS = {"vip": (3, 10), "b2b": (4, 4), "newsletter": (5, 3), "wechat": (6, 2), "event": (7, 4)}
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = 86400

LEAD = {"$id": "lead", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 100},
    "city": {"x-field": "select", "enum": CITIES, "x-index": True},
    "status": {"x-field": "select", "enum": STATUSES, "x-index": True},
    "score": {"x-field": "integer", "x-index": True},
}}
ACTIVITY = {"$id": "activity", "type": "object", "properties": {
    "subject": {"x-field": "text"},
    "type": {"x-field": "select", "enum": TYPES},
    "lead": {"x-field": "relation", "x-target": "lead"},
    "due_at": {"x-field": "datetime"},
}, "x-indexes": [["type", "due_at"]]}

TIER1 = ["shanghai", "beijing", "shenzhen"]
TEN = CITIES[:10]


def _instant(dialect: str, seconds_ago: str) -> str:
    """NOW minus an integer number of seconds, in the column format of the back end."""
    if dialect == "postgresql":
        return f"(timestamptz '{NOW.isoformat()}' - make_interval(secs => {seconds_ago}))"
    return f"(strftime('%Y-%m-%d %H:%M:%S', '{NOW.strftime('%Y-%m-%d %H:%M:%S')}', '-' || ({seconds_ago}) || ' seconds') || '.000000')"


def load(conn: Connection, n: int) -> None:
    """Leads, tag links and activities, set-based; then ANALYZE."""
    d = conn.dialect.name
    created = _instant(d, sql_hash(0, 400 * DAY))
    conn.execute(text(
        f"INSERT INTO obj_lead (id, name, city, status, score, created_at, updated_at, version) "
        f"SELECT g, 'lead ' || g, {sql_case(sql_hash(1, len(CITIES)), CITIES)}, "
        f"{sql_case(sql_hash(2, 5), STATUSES)}, {sql_hash(3, 101)}, {created}, {created}, 1 FROM {sql_series(d, n)}"))
    for tag, (column, mod) in TAGS.items():
        conn.execute(text(
            f"INSERT INTO sys_tag_link (object, record_id, tag, source, created_at) "
            f"SELECT 'lead', g, '{tag}', 'manual', {_instant(d, '0')} FROM {sql_series(d, n)} "
            f"WHERE {sql_hash(column, mod)} = 0"))
    due = _instant(d, sql_hash(4, 120 * DAY))
    conn.execute(text(
        f"INSERT INTO obj_activity (id, subject, type, lead, due_at, created_at, updated_at, version) "
        f"SELECT g, 'activity ' || g, {sql_case(sql_hash(5, 6), TYPES)}, {sql_hash(6, n)} + 1, {due}, {due}, {due}, 1 "
        f"FROM {sql_series(d, n // 2)}"))
    if d == "postgresql":
        for table in ("obj_lead", "obj_activity"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    conn.execute(text("ANALYZE"))


def _days_ago(conn: Connection, days: int) -> Any:
    moment = NOW.timestamp() - days * DAY
    value = datetime.fromtimestamp(moment, UTC)
    return value if conn.dialect.name == "postgresql" else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def questions(dialect: str) -> list[dict[str, Any]]:
    """(name, rule, shape, hand-written SQL): shape is count, count_by_status or page.

    A tag test is written as each back end runs it best: IN on SQLite (one hashed list), a
    correlated EXISTS on PostgreSQL (an IN list larger than work_mem under OR is rescanned per row).
    """
    vip = ("EXISTS (SELECT 1 FROM sys_tag_link t WHERE t.object = 'lead' AND t.tag = '{}' AND t.record_id = l.id)"
           if dialect == "postgresql" else
           "l.id IN (SELECT t.record_id FROM sys_tag_link t WHERE t.object = 'lead' AND t.tag = '{}')")
    tier1 = ", ".join(f"'{c}'" for c in TIER1)
    ten = ", ".join(f"'{c}'" for c in TEN)
    narrow = {"all": [{"field": "city", "op": "in", "value": TIER1}, {"field": "score", "op": "gt", "value": 70},
                      {"op": "has_tag", "value": "vip"}]}
    narrow_sql = f"l.deleted_at IS NULL AND l.city IN ({tier1}) AND l.score > 70 AND {vip.format('vip')}"
    return [
        {"name": "tier-1 cities, score > 70, tag vip; count by status", "rule": narrow, "shape": "count_by_status",
         "sql": f"SELECT l.status, count(*) FROM obj_lead l WHERE {narrow_sql} GROUP BY l.status ORDER BY l.status"},
        {"name": "10 cities, score > 30, tag b2b or newsletter; count", "shape": "count",
         "rule": {"all": [{"field": "city", "op": "in", "value": TEN}, {"field": "score", "op": "gt", "value": 30},
                          {"any": [{"op": "has_tag", "value": "b2b"}, {"op": "has_tag", "value": "newsletter"}]}]},
         "sql": f"SELECT count(*) FROM obj_lead l WHERE l.deleted_at IS NULL AND l.city IN ({ten}) AND l.score > 30 "
                f"AND ({vip.format('b2b')} OR {vip.format('newsletter')})"},
        {"name": "first page (50, newest first) of the narrow segment", "rule": narrow, "shape": "page",
         "sql": f"SELECT l.id FROM obj_lead l WHERE {narrow_sql} ORDER BY l.created_at DESC, l.id DESC LIMIT 50"},
        {"name": "created in the last 30 days, no activity; count", "shape": "count",
         "rule": {"all": [{"field": "created_at", "op": "within_last", "value": {"amount": 30, "unit": "day"}},
                          {"not": {"related": {"object": "activity", "via": "lead"}}}]},
         "sql": "SELECT count(*) FROM obj_lead l WHERE l.deleted_at IS NULL AND l.created_at >= :since "
                "AND l.created_at <= :now AND NOT EXISTS (SELECT 1 FROM obj_activity a WHERE a.lead = l.id "
                "AND a.deleted_at IS NULL)", "params": {"since": 30}},
        {"name": "status new/contacted with a call in the last 30 days; count", "shape": "count",
         "rule": {"all": [{"field": "status", "op": "in", "value": ["new", "contacted"]},
                          {"related": {"object": "activity", "via": "lead"}, "agg": "exists",
                           "where": {"all": [{"field": "type", "op": "eq", "value": "call"},
                                             {"field": "due_at", "op": "within_last",
                                              "value": {"amount": 30, "unit": "day"}}]}}]},
         "sql": "SELECT count(*) FROM obj_lead l WHERE l.deleted_at IS NULL AND l.status IN ('new', 'contacted') "
                "AND EXISTS (SELECT 1 FROM obj_activity a WHERE a.lead = l.id AND a.deleted_at IS NULL "
                "AND a.type = 'call' AND a.due_at >= :since AND a.due_at <= :now)", "params": {"since": 30}},
    ]


def compiled(snap: Any, q: dict[str, Any]) -> Any:
    t = snap.tables["lead"]
    where = [t.c.deleted_at.is_(None), to_sql(q["rule"], "lead", snap, now=NOW, tz="UTC")]
    if q["shape"] == "count_by_status":
        return select(t.c.status, func.count()).where(*where).group_by(t.c.status).order_by(t.c.status)
    if q["shape"] == "page":
        return select(t.c.id).where(*where).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(50)
    return select(func.count()).select_from(t).where(*where)


def timed(conn: Connection, statement: Any, params: dict[str, Any] | None = None) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    rows = [tuple(r) for r in conn.execute(statement, params or {})]
    return time.perf_counter() - start, rows


def run_queries(conn: Connection, snap: Any, repeat: int, label: str) -> list[dict[str, Any]]:
    out = []
    for q in questions(conn.dialect.name):
        params = {}
        if "params" in q:
            params = {"since": _days_ago(conn, q["params"]["since"]), "now": _days_ago(conn, 0)}
        ours, hand = compiled(snap, q), text(q["sql"])
        timed(conn, ours), timed(conn, hand, params)  # warm up
        ours_s, hand_s = [], []
        for i in range(repeat):  # alternate which runs first, so neither gets the warmer cache
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                if which == 0:
                    s, a = timed(conn, ours)
                    ours_s.append(s)
                else:
                    s, b = timed(conn, hand, params)
                    hand_s.append(s)
            assert a == b, (q["name"], a[:5], b[:5])
        result = {"query": q["name"], "rows": len(a), "compiled_ms": round(statistics.median(ours_s) * 1000, 1),
                  "hand_ms": round(statistics.median(hand_s) * 1000, 1)}
        result["ratio"] = round(result["compiled_ms"] / max(result["hand_ms"], 0.05), 3)
        out.append(result)
        print(f"{label:10} {q['name'][:58]:58} compiled {result['compiled_ms']:>8} ms   hand {result['hand_ms']:>8} ms"
              f"   ratio {result['ratio']}", flush=True)
    return out


def in_memory(conn: Connection, svc: Any, snap: Any, label: str) -> dict[str, Any]:
    """Simple rule (city in list AND score > 70) over real rows, as the record service shows them."""
    t = snap.tables["lead"]
    obj = snap.objects["lead"]
    records = [svc.records.to_dict(obj, r._mapping) for r in conn.execute(select(t).limit(200_000))]
    rule = {"all": [{"field": "city", "op": "in", "value": TIER1}, {"field": "score", "op": "gt", "value": 70}]}
    fn = matcher(rule, "lead", snap)
    ctx = EvalContext("lead", NOW, zone("UTC"))
    start = time.perf_counter()
    hits = sum(1 for r in records if fn(r, ctx))
    matcher_s = time.perf_counter() - start
    sample = records[:50_000]
    start = time.perf_counter()
    hits2 = sum(1 for r in sample if matches(rule, r, "lead", snap, now=NOW))
    matches_s = time.perf_counter() - start
    assert hits2 == sum(1 for r in sample if fn(r, ctx))
    result = {"matcher_evals_per_s": round(len(records) / matcher_s), "matches_calls_per_s": round(len(sample) / matches_s),
              "hits": hits, "evaluated": len(records)}
    print(f"{label:10} in memory: compiled matcher {result['matcher_evals_per_s']:>9} evals/s   "
          f"matches() {result['matches_calls_per_s']:>8} calls/s", flush=True)
    return result


def run(url: str, n: int, repeat: int, label: str) -> dict[str, Any]:
    svc = build_services(Settings(database_url=url, secret_key="bench"))
    svc.init()
    tags = [("tag", name, {"name": name, "label": {"en": name}, "objects": ["lead"]}) for name in TAGS]
    svc.metadata.apply([("object", "lead", LEAD), ("object", "activity", ACTIVITY), *tags])
    start = time.perf_counter()
    with svc.engine.begin() as conn:
        load(conn, n)
    load_s = time.perf_counter() - start
    snap = svc.registry.current()
    with svc.engine.connect() as conn:
        links = conn.execute(text("SELECT count(*) FROM sys_tag_link")).scalar()
        acts = conn.execute(text("SELECT count(*) FROM obj_activity")).scalar()
        print(f"{label:10} loaded {n} leads, {links} tag links, {acts} activities in {load_s:.1f} s", flush=True)
        queries = run_queries(conn, snap, repeat, label)
        memory = in_memory(conn, svc, snap, label)
    svc.close()
    total_ours = sum(q["compiled_ms"] for q in queries)
    total_hand = sum(q["hand_ms"] for q in queries)
    return {"backend": label, "n": n, "tag_links": links, "activities": acts, "load_s": round(load_s, 1),
            "queries": queries, "ratio": round(total_ours / total_hand, 3),
            "max_query_ratio": max(q["ratio"] for q in queries), **memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{tmp}/bench.db", args.n, args.repeat, "sqlite"))
    if args.only in (None, "postgresql"):
        pg = pg_schema(args.pg_url)
        if pg:
            try:
                results.append(run(pg[0], args.n, args.repeat, "postgresql"))
            finally:
                drop_schema(args.pg_url, pg[1])
        else:
            print("postgresql: not reachable, skipped", flush=True)
    print(json.dumps({"bench": "segments", "results": results, "ratio": max(r["ratio"] for r in results)},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
