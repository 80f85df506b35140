"""Writes during a migration: p99 of concurrent record writes while `metadata apply` migrates the
table, against the same writes without a migration, measured in the same run.

Loads --n leads, then runs --writers threads creating leads through the record service (what an
API write does under its HTTP layer) for --seconds without a migration (the baseline), and again
while three migrations run one after the other: a new required field with a default (metadata-only
ADD COLUMN ... DEFAULT on PostgreSQL, a NOT VALID check validated afterwards), a widened text field
(ALTER TYPE on PostgreSQL, column rebuild on SQLite) and a new index. Prints one JSON line per back
end and a summary JSON line last with `ratio` (p99 during / p99 without, the worse back end).

usage: python bench/migrate.py [--n 100000] [--writers 4] [--seconds 3] [--pg-url URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import drop_schema, leads, pg_schema
from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.store.services import Services

LEAD = {"$id": "lead", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 100},
    "company": {"x-field": "text", "maxLength": 200},
    "phone": {"x-field": "phone"},
    "city": {"x-field": "text", "maxLength": 40},
    "score": {"x-field": "integer"},
}}
CHUNK = 5000


def steps() -> list[dict[str, Any]]:
    first = copy.deepcopy(LEAD)
    first["properties"]["region"] = {"x-field": "text", "maxLength": 40, "default": "east"}
    first["required"] = ["name", "region"]
    second = copy.deepcopy(first)
    second["properties"]["city"]["maxLength"] = 80
    third = copy.deepcopy(second)
    third["properties"]["company"]["x-index"] = True
    return [first, second, third]


@dataclass
class Load:
    """Writer threads and what they measured: every latency, those while `during` was set, failures."""

    all_ms: list[float] = field(default_factory=list)
    during_ms: list[float] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)


def write_load(svc: Services, writers: int, during: threading.Event, stop: threading.Event) -> Load:
    load = Load()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                svc.records.create("lead", {"name": f"writer {n} {i}", "city": "Shanghai", "score": i})
            except BaseException as exc:
                load.errors.append(exc)
                return
            elapsed = (time.perf_counter() - started) * 1000
            load.all_ms.append(elapsed)
            if during.is_set():
                load.during_ms.append(elapsed)
            i += 1

    load.threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
    for t in load.threads:
        t.start()
    return load


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1) if ordered else 0.0


def run(url: str, n: int, writers: int, seconds: float) -> dict[str, Any]:
    settings = Settings(database_url=url, secret_key="bench", instance_dir=Path(tempfile.mkdtemp()))
    svc = build_services(settings)
    svc.init()
    svc.metadata.apply([("object", "lead", LEAD)])
    data = [{k: r[k] for k in ("name", "company", "phone", "city", "score")} for r in leads(n, 0.0)[0]]
    for i in range(0, n, CHUNK):
        svc.records.bulk_create("lead", data[i:i + CHUNK])
    with svc.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")

    def measure(migrate: bool) -> tuple[list[float], float, int]:
        during, stop = threading.Event(), threading.Event()
        if not migrate:
            during.set()
        load = write_load(svc, writers, during, stop)
        time.sleep(seconds / 2)
        started = time.perf_counter()
        if migrate:
            during.set()
            for doc in steps():
                svc.metadata.apply([("object", "lead", doc)])
            during.clear()
        else:
            time.sleep(seconds / 2)
        spent = time.perf_counter() - started
        time.sleep(seconds / 2 if migrate else 0)
        stop.set()
        for t in load.threads:
            t.join(60)
        if load.errors:
            raise RuntimeError(f"writes failed: {load.errors[:3]}")
        return load.during_ms, spent, len(load.all_ms)

    base, _, base_writes = measure(False)
    during, migration_s, writes = measure(True)
    with svc.engine.connect() as conn:
        nulls = conn.exec_driver_sql("SELECT count(*) FROM obj_lead WHERE region IS NULL").scalar_one()
    svc.close()
    result = {"backend": settings.database_url.split(":")[0].split("+")[0], "n": n, "writers": writers,
              "p99_ms_without": p99(base), "p99_ms_during": p99(during), "max_ms_during": round(max(during), 1),
              "writes_during": len(during), "migration_s": round(migration_s, 2), "null_in_required": int(nulls),
              "writes_total": base_writes + writes}
    result["ratio"] = round(result["p99_ms_during"] / max(result["p99_ms_without"], 0.1), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{tmp}/bench.db", args.n, args.writers, args.seconds))
            print(json.dumps(results[-1]), flush=True)
    if args.only != "sqlite":
        found = pg_schema(args.pg_url)
        if found is None:
            print(json.dumps({"backend": "postgresql", "skipped": "does not answer"}), flush=True)
        else:
            url, schema = found
            try:
                results.append(run(url, args.n, args.writers, args.seconds))
                print(json.dumps(results[-1]), flush=True)
            finally:
                drop_schema(args.pg_url, schema)
    print(json.dumps({"bench": "migrate", "n": args.n, "ratio": max(r["ratio"] for r in results), **{
        r["backend"]: {k: r[k] for k in ("p99_ms_without", "p99_ms_during", "max_ms_during", "migration_s",
                                         "ratio", "null_in_required")} for r in results}}))


if __name__ == "__main__":
    main()
