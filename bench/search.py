"""Global search over --n leads: p95 of 20 typical queries, as an administrator and as an own-scope rep.

Loads --n leads (bench/leadgen.py: Chinese names, companies, mobile phones, e-mails; a share of them
with English names for the typo queries) through the record service in chunks (so the search index
is kept by the writes themselves, as in production: pg_trgm GIN index on PostgreSQL, FTS5 trigram
triggers on SQLite), ANALYZE, then times 20 typical queries (phones in several formats and by their
last digits, CJK names, e-mail and company fragments, a Latin typo) through engines.search,
warm, --repeat rounds. Prints one JSON line per back end and a summary JSON line last.

usage: python bench/search.py [--n 200000] [--repeat 3] [--pg-url URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import drop_schema, leads, pg_schema
from metacrm.auth.permissions import Permission
from metacrm.auth.principal import Principal
from metacrm.config import Settings
from metacrm.engines.search import search
from metacrm.engines.wiring import build_services
from metacrm.store.users import ensure_user

LEAD = {"$id": "lead", "type": "object", "x-title-field": "name", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 100},
    "company": {"x-field": "text", "maxLength": 200},
    "phone": {"x-field": "phone"},
    "email": {"x-field": "email"},
    "city": {"x-field": "text", "maxLength": 40},
    "score": {"x-field": "integer"},
}}
FIRST = ["John", "Emma", "Oliver", "Sophia", "William", "Grace", "James", "Olivia", "Henry", "Chloe"]
LAST = ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker"]
USERS = 10
CHUNK = 5000


def rows(n: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    out = []
    for i, row in enumerate(leads(n, 0.0)[0]):
        name = row["name"] if i % 10 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        out.append({"name": name, "company": row["company"], "phone": row["phone"], "email": row["email"],
                    "city": row["city"], "score": row["score"], "owner_id": 1 + i % USERS})
    return out


def queries(data: list[dict[str, Any]]) -> list[str]:
    rng = random.Random(3)
    pick = [data[rng.randrange(len(data))] for _ in range(6)]
    phone = pick[0]["phone"]
    cn = next(r["name"] for r in pick + data if not r["name"][0].isascii())
    en = next(r["name"] for r in data if r["name"][0].isascii())
    return [
        phone, f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
        pick[1]["phone"][-4:], pick[2]["phone"][-6:], pick[3]["phone"],
        cn, cn[:2], pick[4]["name"].strip(), pick[5]["name"].strip(),
        pick[1]["email"], pick[2]["email"].split("@")[0], "mail7.example",
        pick[3]["company"], pick[4]["company"][2:6], pick[5]["company"][-9:],
        en, en.split()[1].lower(), en.split()[1][:-2] + en.split()[1][-1] + en.split()[1][-2],  # a swapped pair
        "nobody-here-zzz",
    ]


def run(url: str, n: int, repeat: int) -> dict[str, Any]:
    settings = Settings(database_url=url, secret_key="bench", instance_dir=Path(tempfile.mkdtemp()))
    svc = build_services(settings)
    svc.init()
    svc.metadata.apply([("object", "lead", LEAD)])
    with svc.engine.begin() as conn:
        for u in range(1, USERS + 1):
            ensure_user(conn, f"user{u}")
    data = rows(n)
    started = time.perf_counter()
    for i in range(0, n, CHUNK):
        svc.records.bulk_create("lead", data[i:i + CHUNK], actor_id=1)
    load_s = time.perf_counter() - started
    with svc.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    admin = Principal(1, "user1", "", "en", True)
    rep = Principal(2, "user2", "", "en", False, grants={"lead": Permission(read=True, scope="own")})
    qs = queries(data)
    result: dict[str, Any] = {"backend": svc.engine.dialect.name, "n": n, "insert_rows_per_s": round(n / load_s)}
    for label, who in (("admin", admin), ("rep", rep)):
        times: list[float] = []
        hits = 0
        with svc.engine.connect() as conn:
            snap = svc.registry.current(conn)
            for q in qs:  # warm up
                search(conn, snap, who, q, 5)
            for _ in range(repeat):
                for q in qs:
                    t = time.perf_counter()
                    groups = search(conn, snap, who, q, 5)
                    times.append((time.perf_counter() - t) * 1000)
                    hits += bool(groups)
            conn.rollback()
        times.sort()
        result[label] = {"p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(times[int(len(times) * 0.95) - 1], 1), "max_ms": round(times[-1], 1),
                         "queries_with_hits": hits // repeat, "queries": len(qs)}
    svc.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{tmp}/bench.db", args.n, args.repeat))
            print(json.dumps(results[-1]), flush=True)
    if args.only != "sqlite":
        found = pg_schema(args.pg_url)
        if found is None:
            print(json.dumps({"backend": "postgresql", "skipped": "does not answer"}), flush=True)
        else:
            url, schema = found
            try:
                results.append(run(url, args.n, args.repeat))
                print(json.dumps(results[-1]), flush=True)
            finally:
                drop_schema(args.pg_url, schema)
    print(json.dumps({"bench": "search", "n": args.n, **{
        r["backend"]: {"p95_ms_admin": r["admin"]["p95_ms"], "p95_ms_rep": r["rep"]["p95_ms"],
                       "insert_rows_per_s": r["insert_rows_per_s"]} for r in results}}))


if __name__ == "__main__":
    main()
