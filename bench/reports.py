"""Reports through the report engine vs hand-written SQL with the same scope, and report-path export.

Builds --n deals (default 1,000,000) set-based inside the database (deterministic arithmetic on a
number series: stage, amount, expected close over two years, owner 1..20, region), with indexes
on owner_id and ANALYZE. The caller is a sales manager whose role has team scope over ten of the
twenty owners. Three reports -- month x stage with sum(amount), win rate by owner, count by
region -- run through engines.reports.run_report (cache off: every run is computed) and, in the
same run, as hand-written SQL with the same scope condition (warm, interleaved, median and p95 of
--repeat runs); answers are checked equal. Then --export-rows rows x 10 fields go through the
export path (engines.exports.export_records -> sheets.write_xlsx, write-only, formulas escaped)
and, in the same run, the same rows already in memory through bare openpyxl write-only;
`export_ratio` = ours / bare rows per second. Peak memory is the process's max RSS.
Runs on SQLite and, when it answers, PostgreSQL.

usage: python bench/reports.py [--n 1000000] [--repeat 7] [--export-rows 200000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import drop_schema, pg_schema, sql_case, sql_hash, sql_series
from metacrm.auth.permissions import Permission
from metacrm.auth.principal import Principal
from metacrm.config import Settings
from metacrm.engines import reports
from metacrm.engines.exports import export_records
from metacrm.engines.wiring import build_services
from metacrm.store.users import ensure_user

STAGES = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
REGIONS = ["310000", "110000", "440000", "330000", "510000", "320000", "420000", "610000", "500000", "120000"]
OWNERS = 20
TEAM = list(range(1, 11))
DEAL = {"$id": "deal", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 100},
    "stage": {"x-field": "select", "enum": STAGES},
    "region": {"x-field": "select", "enum": REGIONS},
    "amount": {"x-field": "decimal"},
    "expected_close": {"x-field": "date"},
    "source": {"x-field": "text"}, "note": {"x-field": "text"}, "code": {"x-field": "text"},
    "score": {"x-field": "integer"},
}}
REPORTS = {
    "month_x_stage": {"name": "b1", "label": {"en": "b1"}, "object": "deal",
                      "dimensions": [{"field": "expected_close", "bucket": "month"}, {"field": "stage"}],
                      "measures": [{"name": "amount", "agg": "sum", "field": "amount"}]},
    "win_rate_by_owner": {"name": "b2", "label": {"en": "b2"}, "object": "deal", "dimensions": [{"field": "owner_id"}],
                          "measures": [{"name": "won", "agg": "count", "filter": {"field": "stage", "op": "eq", "value": "won"}},
                                       {"name": "closed", "agg": "count",
                                        "filter": {"field": "stage", "op": "in", "value": ["won", "lost"]}},
                                       {"name": "rate", "agg": "ratio", "of": "won", "over": "closed"}]},
    "count_by_region": {"name": "b3", "label": {"en": "b3"}, "object": "deal", "dimensions": [{"field": "region"}],
                        "measures": [{"agg": "count"}]},
}


def load(conn: Connection, n: int) -> None:
    d = conn.dialect.name
    day = f"{sql_hash(3, 730)}"
    close = (f"(date '2025-01-01' + CAST({day} AS integer))" if d == "postgresql"
             else f"date('2025-01-01', '+' || ({day}) || ' days')")
    now = "now()" if d == "postgresql" else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    conn.execute(text(
        f"INSERT INTO obj_deal (id, name, stage, region, amount, expected_close, source, note, code, score, owner_id, "
        f"created_at, updated_at, version) "
        f"SELECT g, 'deal ' || g, {sql_case(sql_hash(0, 6), STAGES)}, {sql_case(sql_hash(1, 10), REGIONS)}, "
        f"({sql_hash(2, 1000000)}) / 100.0, {close}, '=cmd ' || g, 'note ' || g, 'C' || g, {sql_hash(4, 101)}, "
        f"{sql_hash(5, OWNERS)} + 1, {now}, {now}, 1 FROM {sql_series(d, n)}"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_bench_deal_owner ON obj_deal (owner_id)"))
    if d == "postgresql":
        conn.execute(text("SELECT setval(pg_get_serial_sequence('obj_deal', 'id'), (SELECT max(id) FROM obj_deal))"))
    conn.execute(text("ANALYZE"))


def hand_sql(dialect: str) -> dict[str, str]:
    team = ", ".join(map(str, TEAM))
    where = f"deleted_at IS NULL AND owner_id IN ({team})"
    month = ("to_char(date_trunc('month', expected_close), 'YYYY-MM')" if dialect == "postgresql"
             else "strftime('%Y-%m', expected_close)")
    rate = "CAST(won AS float) / NULLIF(CAST(closed AS float), 0)"
    return {
        "month_x_stage": f"SELECT {month} AS m, stage, coalesce(sum(amount), 0) FROM obj_deal WHERE {where} "
                         f"GROUP BY {month}, stage ORDER BY m, stage",
        "win_rate_by_owner": f"SELECT owner_id, won, closed, {rate} FROM (SELECT owner_id, "
                             f"count(CASE WHEN stage = 'won' THEN 1 END) AS won, "
                             f"count(CASE WHEN stage IN ('won', 'lost') THEN 1 END) AS closed "
                             f"FROM obj_deal WHERE {where} GROUP BY owner_id) x ORDER BY owner_id",
        "count_by_region": f"SELECT region, count(*) FROM obj_deal WHERE {where} GROUP BY region ORDER BY region",
    }


def manager() -> Principal:
    return Principal(100, "manager", "", "en", False, team_user_ids=frozenset(TEAM),
                     grants={"deal": Permission(read=True, scope="team")})


def _same(ours: list[list[Any]], hand: list[tuple[Any, ...]]) -> bool:
    def norm(v: Any) -> Any:
        return round(float(v), 2) if isinstance(v, float | int) or hasattr(v, "as_tuple") else v
    a = sorted([[norm(v) for v in r] for r in ours], key=str)
    b = sorted([[norm(v) for v in r] for r in hand], key=str)
    return a == b


def run_reports(svc: Any, repeat: int, label: str) -> list[dict[str, Any]]:
    who = manager()
    out = []
    with svc.engine.connect() as conn:
        snap = svc.registry.current(conn)
        sql = hand_sql(conn.dialect.name)
        for name, doc in REPORTS.items():
            def ours(doc: dict[str, Any] = doc) -> list[list[Any]]:
                return reports.run_report(conn, snap, doc, who, {}, use_cache=False)["rows"]

            def hand(name: str = name) -> list[tuple[Any, ...]]:
                return [tuple(r) for r in conn.execute(text(sql[name]))]

            a, b = ours(), hand()  # warm up
            assert _same(a, b), (name, a[:3], b[:3])
            ours_s, hand_s = [], []
            for i in range(repeat):
                for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                    start = time.perf_counter()
                    (ours if which == 0 else hand)()
                    (ours_s if which == 0 else hand_s).append(time.perf_counter() - start)
            r = {"report": name, "rows": len(a), "engine_ms": round(statistics.median(ours_s) * 1000, 1),
                 "hand_ms": round(statistics.median(hand_s) * 1000, 1),
                 "engine_p95_ms": round(sorted(ours_s)[max(0, int(len(ours_s) * 0.95) - 1)] * 1000, 1)}
            r["ratio"] = round(r["engine_ms"] / max(r["hand_ms"], 0.05), 3)
            out.append(r)
            print(f"{label:10} {name:18} engine {r['engine_ms']:>8} ms (p95 {r['engine_p95_ms']})   hand "
                  f"{r['hand_ms']:>8} ms   ratio {r['ratio']}", flush=True)
    return out


def run_export(svc: Any, rows: int, label: str) -> dict[str, Any]:
    from openpyxl import Workbook

    fields = ["id", "name", "stage", "region", "amount", "expected_close", "source", "note", "code", "score"]
    sink = io.BytesIO()
    start = time.perf_counter()
    written = export_records(svc, "deal", sink, "xlsx", fields=fields, limit=rows)
    ours_s = time.perf_counter() - start
    with svc.engine.connect() as conn:
        data = [list(r) for r in conn.execute(text(f"SELECT {', '.join(fields)} FROM obj_deal ORDER BY id LIMIT {rows}"))]
    start = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("deal")
    sheet.append(fields)
    for row in data:
        sheet.append([float(v) if hasattr(v, "as_tuple") else v for v in row])
    book.save(io.BytesIO())
    bare_s = time.perf_counter() - start
    result = {"export_rows": written, "export_rows_per_s": round(written / ours_s),
              "bare_rows_per_s": round(len(data) / bare_s), "export_s": round(ours_s, 2), "bare_s": round(bare_s, 2)}
    result["export_ratio"] = round(result["export_rows_per_s"] / result["bare_rows_per_s"], 3)
    print(f"{label:10} export {written} rows x 10: ours {result['export_rows_per_s']} rows/s, bare openpyxl "
          f"{result['bare_rows_per_s']} rows/s, export_ratio {result['export_ratio']}", flush=True)
    return result


def run(url: str, n: int, repeat: int, export_rows: int, label: str) -> dict[str, Any]:
    svc = build_services(Settings(database_url=url, secret_key="bench"))
    svc.init()
    svc.metadata.apply([("object", "deal", DEAL)])
    with svc.engine.begin() as conn:
        for i in range(1, OWNERS + 1):
            ensure_user(conn, f"owner{i}")
    start = time.perf_counter()
    with svc.engine.begin() as conn:
        load(conn, n)
    load_s = time.perf_counter() - start
    print(f"{label:10} loaded {n} deals in {load_s:.1f} s", flush=True)
    queries = run_reports(svc, repeat, label)
    export = run_export(svc, min(export_rows, n), label)
    svc.close()
    total_engine = sum(q["engine_ms"] for q in queries)
    total_hand = sum(q["hand_ms"] for q in queries)
    return {"backend": label, "n": n, "load_s": round(load_s, 1), "reports": queries,
            "ratio": round(total_engine / max(total_hand, 0.05), 3),
            "p95_ms": max(q["engine_p95_ms"] for q in queries), **export,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--export-rows", type=int, default=200_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{tmp}/bench.db", args.n, args.repeat, args.export_rows, "sqlite"))
    if args.only in (None, "postgresql"):
        pg = pg_schema(args.pg_url)
        if pg:
            try:
                results.append(run(pg[0], args.n, args.repeat, args.export_rows, "postgresql"))
            finally:
                drop_schema(args.pg_url, pg[1])
        else:
            print("postgresql: not reachable, skipped", flush=True)
    print(json.dumps({"bench": "reports", "results": results, "ratio": max(r["ratio"] for r in results),
                      "export_ratio": min(r["export_ratio"] for r in results)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
