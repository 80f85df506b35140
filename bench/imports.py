"""Full import of an n-row x 20-column .xlsx vs openpyxl's read-only parse alone of the same file.

The file has 5% duplicate rows (same mobile as an earlier row, typed differently) and 3% invalid
rows (bad mobile, unknown city, score out of range). The import is the whole path: calamine
read, mapping, normalizers, validation and coercion, dedupe against the pool and the file
(sample definition metadata/dedupe/lead.json), insert through the record service, ledger, error
rows, progress. Prints one line per back end; the last line is one JSON object with `ratio`
(import seconds / openpyxl parse seconds; the aim is <= 1) and, per back end, `stages`: seconds
spent reading, normalising, validating, finding duplicates and inserting (job `seconds.stages`).

--existing N loads N other leads first (set-based, same companies), so the per-row cost can be
compared at table sizes; `plans` shows the query plan of each dedupe lookup at that size.

usage: python bench/imports.py [--n 100000] [--batch 1000] [--existing 0] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

from leadgen import CITY_ZH, company_name, drop_schema, leads, person_name, pg_schema
from metacrm.config import Settings
from metacrm.engines.imports.runner import STAGES, create_import, run_import
from metacrm.engines.wiring import build_services
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.bulk import insert_many
from metacrm.store.definitions import incoming_from_files
from metacrm.store.statistics import refresh_statistics

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["姓名", "公司", "职位", "手机号", "邮箱", "微信号", "城市", "状态", "评分", "来源详情", "获取时间",
          "预算（元）", "兴趣偏好", "同意接收营销信息", "下次跟进日期", "备注", "客户等级", "备用电话", "地址", "录入人"]
STATUS_ZH = {"new": "新线索", "contacted": "已联系", "qualified": "已确认"}
INTEREST_ZH = {"skincare": "美妆护肤", "fashion": "服饰时尚", "sports": "运动健身", "travel": "旅行", "food": "美食饮品",
               "electronics": "数码电子", "home": "家居生活", "finance": "理财"}
CITY_KEYS = ["shanghai", "beijing", "shenzhen", "guangzhou", "hangzhou", "chengdu", "nanjing", "wuhan", "suzhou",
             "xian", "chongqing", "tianjin"]


def write_file(path: Path, n: int) -> dict[str, int]:
    """The benchmark workbook (openpyxl write_only); returns how many rows are duplicates / invalid."""
    from openpyxl import Workbook

    rng = random.Random(11)
    originals, _ = leads(n + 1, 0.0)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("线索")
    sheet.append(HEADER)
    base = datetime(2026, 1, 1)
    dup = bad = 0
    for i in range(n):
        roll = rng.random()
        if roll < 0.05 and i > 10:
            src = originals[rng.randrange(min(i, len(originals)))]
            row = dict(src)
            phone = row["phone"]
            row["phone"] = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
            dup += 1
        else:
            row = dict(originals[i % len(originals)])
        city = CITY_ZH[CITY_KEYS.index(row["city"])]
        score: Any = row["score"]
        if 0.05 <= roll < 0.08:
            bad += 1
            kind = rng.randrange(3)
            if kind == 0:
                row["phone"] = "12345"
            elif kind == 1:
                city = "火星"
            else:
                score = 150
        sheet.append([row["name"], row["company"], "市场经理", row["phone"], row["email"], None, city,
                      STATUS_ZH[row["status"]], score, "2026 展会", base + timedelta(minutes=i),
                      f"{rng.randint(0, 100000)}.50", "、".join(INTEREST_ZH[x] for x in row["interests"]),
                      "是" if i % 2 else "否", f"2026-12-{i % 28 + 1:02d}", "展会扫码", "A", None,
                      "某路1号", "bench"])
    book.save(path)
    return {"duplicates": dup, "invalid": bad}


def parse_alone(path: Path) -> float:
    from openpyxl import load_workbook

    start = time.perf_counter()
    book = load_workbook(path, read_only=True)
    rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert rows > 0
    return time.perf_counter() - start


def preload(svc: Any, count: int, n: int) -> None:
    """`count` leads that are no file row's duplicate (phones 188..., emails e...); the companies grow
    with the table (as leadgen's do), so what grows with `count` is the table, not the blocks."""
    rng = random.Random(5)
    obj = svc.registry.current().object("lead")
    table = svc.registry.current().tables["lead"]
    now = datetime(2025, 6, 1, tzinfo=UTC)
    companies = max(100, (n + count) // 15)  # as in leadgen: about 15 leads per company, the file's among them
    for start in range(0, count, 5000):
        rows = []
        for i in range(start, min(count, start + 5000)):
            values, problems = obj.prepare({"name": person_name(rng), "company": company_name(rng.randrange(companies)),
                                     "phone": f"188{i:08d}", "email": f"e{i}@pool.example.com",
                                     "city": CITY_KEYS[i % len(CITY_KEYS)], "score": i % 100}, False,
                                    svc.records.ctx)
            assert not problems, problems
            rows.append({**{f: values.get(f) for f in obj.fields}, "created_at": now, "updated_at": now,
                         "version": 1})
        with svc.engine.begin() as conn:
            insert_many(conn, table, rows)
    refresh_statistics(svc.engine, [table.name])  # as the bulk-write job would


def plans(conn: Connection, svc: Any) -> dict[str, str]:
    """The plan of each dedupe lookup an import batch runs (one sample key each)."""
    table = svc.registry.current().tables["lead"]
    sample = conn.execute(select(table.c.phone, table.c.email, table.c.company, table.c.name).limit(1)).first()
    if sample is None:
        return {}
    lookups = {
        "same_phone": select(table.c.id).where(table.c.deleted_at.is_(None), table.c.phone.in_([sample.phone])),
        "same_email": select(table.c.id).where(table.c.deleted_at.is_(None), table.c.email.in_([sample.email])),
        "similar_name_same_company": select(table.c.id, table.c.company, table.c.name).where(
            table.c.deleted_at.is_(None), table.c.company.in_([sample.company]),
            func.lower(func.substr(table.c.name, 1, 1)) == sample.name[:1].lower()),
    }
    out = {}
    for name, query in lookups.items():
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        rows = conn.execute(text(prefix + sql)).all()
        out[name] = " | ".join(str(r[-1]) for r in rows)
    return out


def run(url: str, path: Path, n: int, batch: int, label: str, instance: Path, existing: int = 0) -> dict[str, Any]:
    svc = build_services(Settings(database_url=url, secret_key="bench", instance_dir=instance))
    svc.init()
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    if existing:
        preload(svc, existing, n)
    parse_s = parse_alone(path)
    start = time.perf_counter()
    job = create_import(svc, path, path.name, "lead", batch_size=batch)
    done = run_import(svc, job["id"])
    import_s = time.perf_counter() - start
    with svc.engine.connect() as conn:
        explained = plans(conn, svc)
    svc.close()
    stored = (done.get("seconds") or {}).get("stages") or {}
    stages = {k: stored[k] for k in STAGES if k in stored}
    result = {"backend": label, "n": n, "existing": existing, "parse_s": round(parse_s, 2),
              "import_s": round(import_s, 2), "stages": stages,
              "stage_us_per_row": {k: round(v / n * 1e6, 1) for k, v in stages.items()}, "plans": explained,
              "import_rows_per_s": round(n / import_s), "parse_rows_per_s": round(n / parse_s),
              "created": done["created"], "failed": done["failed"], "skipped": done["skipped"],
              "flagged": done["flagged"], "ratio": round(import_s / parse_s, 3)}
    print(f"{label:10} openpyxl parse {parse_s:7.2f}s   full import {import_s:7.2f}s "
          f"({result['import_rows_per_s']} rows/s)   ratio {result['ratio']}   created {done['created']} "
          f"failed {done['failed']} skipped {done['skipped']} flagged {done['flagged']}", flush=True)
    print(f"{'':10} stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--existing", type=int, default=0, help="leads already in the table before the import")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_leads.xlsx"
        start = time.perf_counter()
        made = write_file(path, args.n)
        print(f"wrote {args.n} rows x {len(HEADER)} columns ({made['duplicates']} duplicates, {made['invalid']} "
              f"invalid) in {time.perf_counter() - start:.1f}s, {path.stat().st_size // 1024} KiB", flush=True)
        results.append(run(f"sqlite:///{tmp}/bench.db", path, args.n, args.batch, "sqlite", Path(tmp) / "i1",
                           args.existing))
        pg = pg_schema(args.pg_url)
        if pg:
            try:
                results.append(run(pg[0], path, args.n, args.batch, "postgresql", Path(tmp) / "i2", args.existing))
            finally:
                drop_schema(args.pg_url, pg[1])
        else:
            print("postgresql: not reachable, skipped", flush=True)
    print(json.dumps({"bench": "imports", "columns": len(HEADER), **made, "results": results,
                      "ratio": max(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
