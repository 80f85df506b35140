"""Automatic tag upkeep: set-based after a definition change, and per write through a relation chain.

1. Set-based: loads --n leads (bench/segments.py's data), applies a tag whose rule matches about
   half of them (adds), then changes it to match about a fifth (removes), once with the
   tag_added / tag_removed events logged (INSERT ... SELECT) and once, on another tag, with the
   event statements switched off; prints the times.
2. Per write: 1,000 accounts, 5,000 leads, 20,000 activities; times 500 single activity updates
   with and without an account tag two levels up ("has a lead that has a call activity").

usage: python bench/tag_recompute.py [--n 1000000] [--pg-url URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from leadgen import drop_schema, pg_schema
from metacrm.config import Settings
from metacrm.engines import rule_members
from metacrm.engines.wiring import build_services
from metacrm.meta.kinds import kind
from metacrm.store.system import record_events
from segments import ACTIVITY, LEAD, load


def tag(name: str, low: int) -> tuple[str, str, dict[str, Any]]:
    doc = {"name": name, "label": {"en": name}, "objects": ["lead"], "rule": {"field": "score", "op": "gte", "value": low}}
    return "tag", kind("tag").id_of(doc), doc


def run(url: str, n: int) -> None:
    svc = build_services(Settings(database_url=url, secret_key="bench", instance_dir=Path(tempfile.mkdtemp())))
    svc.init()
    svc.metadata.apply([("object", "lead", LEAD), ("object", "activity", ACTIVITY)])
    with svc.engine.begin() as conn:
        load(conn, n)
    real = rule_members._logged

    def silent(conn: Any, member: Any, change: Any, *rest: Any) -> int:
        return int(conn.execute(change, execution_options={"preserve_rowcount": True}).rowcount)

    for logged in (False, True):
        rule_members._logged = real if logged else silent  # type: ignore[assignment]
        name = "bench_logged" if logged else "bench_silent"
        for low in (50, 80):
            started = time.perf_counter()
            svc.metadata.apply([tag(name, low)])
            took = time.perf_counter() - started
            with svc.engine.connect() as conn:
                events = conn.execute(select(func.count()).select_from(record_events)).scalar_one()
            print(f"  {svc.engine.dialect.name:10} events={'on ' if logged else 'off'} score>={low}: "
                  f"{took:7.2f} s   (event rows so far {events:,})", flush=True)
    rule_members._logged = real
    svc.close()


ACCOUNT = {"$id": "account", "type": "object", "properties": {"name": {"x-field": "text"}}}
CHAIN_LEAD = {"$id": "lead", "type": "object", "properties": {
    "score": {"x-field": "integer"}, "account": {"x-field": "relation", "x-target": "account"}}}
CHAIN_ACTIVITY = {"$id": "activity", "type": "object", "properties": {
    "lead": {"x-field": "relation", "x-target": "lead"}, "type": {"x-field": "select", "enum": ["call", "mail"]}}}
CALLED = {"name": "acct_called", "label": {"en": "Called"}, "objects": ["account"],
          "rule": {"related": {"object": "lead", "via": "account"}, "where": {
              "related": {"object": "activity", "via": "lead"}, "where": {"field": "type", "op": "eq", "value": "call"}}}}


def per_write(url: str, chained: bool, writes: int = 500) -> None:
    svc = build_services(Settings(database_url=url, secret_key="bench", instance_dir=Path(tempfile.mkdtemp())))
    svc.init()
    docs = [("object", "account", ACCOUNT), ("object", "lead", CHAIN_LEAD), ("object", "activity", CHAIN_ACTIVITY)]
    svc.metadata.apply(docs + ([("tag", "acct_called", CALLED)] if chained else []))
    accounts = svc.records.bulk_create("account", [{"name": "a"} for _ in range(1000)]).ids
    leads = [i for k in range(5) for i in svc.records.bulk_create(
        "lead", [{"score": 1, "account": accounts[j % 1000]} for j in range(1000)]).ids]
    acts = [i for k in range(4) for i in svc.records.bulk_create(
        "activity", [{"lead": leads[(k * 5000 + j) % 5000], "type": "mail"} for j in range(5000)]).ids]
    started = time.perf_counter()
    for k in range(writes):
        svc.records.update("activity", acts[k * 37 % len(acts)], {"type": "call" if k % 2 else "mail"})
    took = (time.perf_counter() - started) / writes * 1000
    print(f"  {svc.engine.dialect.name:10} activity update, {'with' if chained else 'without'} the 2-level account tag: "
          f"{took:5.2f} ms", flush=True)
    svc.close()


def on_both(only: str | None, pg_url: str, fn: Any) -> None:
    if only != "postgresql":
        fn(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    if only != "sqlite":
        found = pg_schema(pg_url)
        if found is None:
            print("  postgresql: does not answer, skipped")
            return
        url, schema = found
        try:
            fn(url)
        finally:
            drop_schema(pg_url, schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"tag recompute after a definition change, {args.n:,} leads")
    on_both(args.only, args.pg_url, lambda url: run(url, args.n))
    print("per write, through account <- lead <- activity")
    for chained in (False, True):
        on_both(args.only, args.pg_url, lambda url, c=chained: per_write(url, c))


if __name__ == "__main__":
    main()
