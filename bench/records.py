"""Bulk create through the record service vs raw SQLAlchemy Core executemany, same table shape.

The record service validates (compiled JSON Schema), coerces by field type, checks unique values
and references, and writes one record event per record in the same transaction; the baseline
only inserts already-typed rows. Both insert in batches of --batch rows, one transaction each,
interleaved batch by batch so that both see the same load and table sizes.
Prints one line per back end and, last, one JSON object with all figures.

usage: python bench/records.py [--n 100000] [--batch 1000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import on_each_backend
from metacrm.config import Settings
from metacrm.store.services import Services

CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "Singapore", "London"]
STATUSES = ["new", "contacted", "qualified", "lost"]
SOURCES = ["web", "expo", "wechat", "ads", "referral"]
INTERESTS = ["price", "quality", "service", "speed"]

OBJECT = {
    "$id": "bench_lead", "type": "object", "x-label": {"en": "Bench lead"},
    "properties": {
        "name": {"x-field": "text", "maxLength": 120},
        "company": {"x-field": "text", "maxLength": 200},
        "job_title": {"x-field": "text", "maxLength": 100},
        "email": {"x-field": "email", "x-unique": True},
        "phone": {"x-field": "phone"},
        "city": {"x-field": "select", "enum": CITIES},
        "status": {"x-field": "select", "enum": STATUSES},
        "source": {"x-field": "select", "enum": SOURCES},
        "score": {"x-field": "integer", "minimum": 0, "maximum": 100},
        "visits": {"x-field": "integer"},
        "budget": {"x-field": "decimal", "x-scale": 2},
        "rating": {"x-field": "decimal", "x-scale": 1},
        "active": {"x-field": "boolean"},
        "vip": {"x-field": "boolean"},
        "birthday": {"x-field": "date"},
        "last_seen": {"x-field": "datetime"},
        "website": {"x-field": "url"},
        "notes": {"x-field": "textarea"},
        "interests": {"x-field": "multiselect", "items": {"enum": INTERESTS}},
        "country": {"x-field": "text", "maxLength": 60},
    },
    "required": ["name"],
}


def make_rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """JSON-ready input rows, as an API client or an import would send them."""
    rng = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        rows.append({
            "name": f"客户{i}", "company": f"公司{i % 5000}有限公司", "job_title": "经理",
            "email": f"user{i}@example{i % 97}.com", "phone": f"138{i % 100_000_000:08d}",
            "city": rng.choice(CITIES), "status": rng.choice(STATUSES), "source": rng.choice(SOURCES),
            "score": rng.randint(0, 100), "visits": rng.randint(0, 500),
            "budget": f"{rng.randint(0, 10_000_000) / 100:.2f}", "rating": f"{rng.randint(0, 50) / 10:.1f}",
            "active": rng.random() < 0.8, "vip": rng.random() < 0.1,
            "birthday": (date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))).isoformat(),
            "last_seen": (base + timedelta(seconds=rng.randint(0, 30_000_000))).isoformat(),
            "website": f"https://www.example{i % 97}.com/", "notes": "首次接触于展会",
            "interests": rng.sample(INTERESTS, rng.randint(0, 2)), "country": "China",
        })
    return rows


def typed(row: dict[str, Any]) -> dict[str, Any]:
    """What a hand-written loader would insert: the same values, already typed, no checks."""
    out = dict(row)
    out["phone"] = "+86" + row["phone"]
    out["budget"] = Decimal(row["budget"])
    out["rating"] = Decimal(row["rating"])
    out["birthday"] = date.fromisoformat(row["birthday"])
    out["last_seen"] = datetime.fromisoformat(row["last_seen"])
    now = datetime.now(UTC)
    out.update(created_at=now, updated_at=now, created_by=None, owner_id=None, version=1, deleted_at=None)
    return out


def run(url: str, n: int, batch: int, label: str) -> dict[str, Any]:
    svc = Services.from_settings(Settings(database_url=url, secret_key="bench"))
    svc.init()
    svc.metadata.apply([("object", "bench_lead", OBJECT)])
    baseline_doc = {**OBJECT, "$id": "bench_raw"}
    svc.metadata.apply([("object", "bench_raw", baseline_doc)])
    raw_table = svc.registry.current().tables["bench_raw"]
    rows = make_rows(n)
    typed_rows = [typed(r) for r in rows]

    # Interleaved, batch by batch, so both paths see the same machine load and table sizes.
    raw_s = service_s = 0.0
    for i in range(0, n, batch):
        start = time.perf_counter()
        with svc.engine.begin() as conn:
            conn.execute(raw_table.insert(), typed_rows[i:i + batch])
        raw_s += time.perf_counter() - start
        start = time.perf_counter()
        svc.records.bulk_create("bench_lead", rows[i:i + batch])
        service_s += time.perf_counter() - start
    assert svc.records.count("bench_lead") == n
    svc.close()
    result = {"backend": label, "n": n, "raw_rows_per_s": round(n / raw_s), "service_rows_per_s": round(n / service_s),
              "ratio": round(raw_s / service_s, 3)}
    print(f"{label:10} raw Core {result['raw_rows_per_s']:>8} rows/s   record service "
          f"{result['service_rows_per_s']:>8} rows/s   ratio {result['ratio']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = on_each_backend(args.pg_url, lambda url, backend: run(url, args.n, args.batch, backend))
    print(json.dumps({"bench": "records", "fields": len(OBJECT["properties"]), "results": results,
                      "ratio": min(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
