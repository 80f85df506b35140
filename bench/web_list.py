"""The web app's list view at scale: first page vs a deep page through the records API.

The list view pages with the API's cursor (keyset pagination), never OFFSET, so a page deep in a
large table should cost what the first page costs. This loads --n records of a small object
through the record service, then times GET /api/v1/records/{object} (limit 50, the app's page
size) for the first page and for a page 90% deep, unfiltered and with a rule filter (city in two
of eight values), through the Flask app in-process (no network). Median of --repeat runs,
interleaved. The ratio is the worst deep / first for sort -id, the app's "newest first"; sort
-created_at is timed too, for information.

usage: python bench/web_list.py [--n 1000000] [--repeat 15] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from metacrm.api.app import create_app
from metacrm.auth import accounts
from metacrm.auth.tokens import create_token
from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.store.users import ensure_user

CITIES = ["shanghai", "beijing", "shenzhen", "guangzhou", "hangzhou", "chengdu", "london", "tokyo"]
OBJECT = {
    "$id": "bench_page", "type": "object", "x-label": {"en": "Bench page"}, "x-title-field": "name",
    "properties": {
        "name": {"x-field": "text", "maxLength": 120},
        "city": {"x-field": "select", "enum": CITIES, "x-index": True},
        "score": {"x-field": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["name"],
}


def _settings(url: str, folder: Path) -> Settings:
    return Settings(database_url=url, secret_key="bench", instance_dir=folder)


def load(svc: Any, n: int, batch: int = 5000) -> float:
    svc.metadata.apply([("object", "bench_page", OBJECT)], note="bench")
    start = time.perf_counter()
    for lo in range(0, n, batch):
        rows = [{"name": f"Lead {i}", "city": CITIES[i % len(CITIES)], "score": i % 101}
                for i in range(lo, min(n, lo + batch))]
        svc.records.bulk_create("bench_page", rows)
    return time.perf_counter() - start


def run(url: str, n: int, repeat: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="metacrm-bench-"))
    svc = build_services(_settings(url, folder))
    svc.init()
    load_s = load(svc, n)
    with svc.engine.begin() as conn:
        uid = ensure_user(conn, "bench")
        accounts.set_admin(conn, uid, True)
        _, token = create_token(conn, uid, "bench")
        if svc.engine.dialect.name == "postgresql":  # this table only: others' tables may be locked
            conn.execute(text(f'ANALYZE "{svc.registry.current(conn).tables["bench_page"].name}"'))
    client = create_app(_settings(url, folder), svc).test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def get(query: dict[str, str]) -> dict[str, Any]:
        response = client.get("/api/v1/records/bench_page", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    deep_id = max(1, int(n * 0.1))  # ids ascend with inserts: id 10% is 90% deep from the newest
    city_rule = json.dumps({"field": "city", "op": "in", "value": ["shanghai", "beijing"]})
    cases: dict[str, dict[str, str]] = {}
    for sort in ("-created_at", "-id"):
        for name, rule in (("all", None), ("city_in_2", city_rule)):
            base = {"sort": sort, "limit": "50", **({"filter": rule} if rule else {})}
            at = json.dumps({"all": [{"field": "id", "op": "lte", "value": deep_id},
                                     *([json.loads(rule)] if rule else [])]})
            cursor = get({"sort": sort, "limit": "1", "filter": at})["next_cursor"]
            cases[f"{sort} {name} first"] = base
            cases[f"{sort} {name} deep"] = {**base, "cursor": cursor}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):
        for key, query in cases.items():
            t0 = time.perf_counter()
            page = get(query)
            times[key].append((time.perf_counter() - t0) * 1000)
            assert page["items"], key
    medians = {k: round(statistics.median(v), 2) for k, v in times.items()}
    svc.engine.dispose()
    ratios = [medians[k.replace("first", "deep")] / medians[k] for k in medians
              if k.startswith("-id ") and k.endswith("first")]
    return {"database": svc.engine.dialect.name, "n": n, "load_s": round(load_s, 1), "ms": medians,
            "ratio": round(max(ratios), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = [run(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", args.n, args.repeat)]
    schema = "bench_" + uuid.uuid4().hex[:8]
    try:
        admin = create_engine(args.pg_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # PostgreSQL does not answer: SQLite only
        print(f"postgresql: skipped ({type(exc).__name__})")
    else:
        try:
            sep = "&" if "?" in args.pg_url else "?"
            results.append(run(f"{args.pg_url}{sep}options=-csearch_path%3D{schema}", args.n, args.repeat))
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    for r in results:
        print(f"{r['database']}: n={r['n']} loaded in {r['load_s']}s; page medians (ms): "
              + ", ".join(f"{k} {v}" for k, v in r["ms"].items()) + f"; worst deep/first with -id {r['ratio']}")
    print(json.dumps({"bench": "web_list", "results": results, "ratio": max(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
