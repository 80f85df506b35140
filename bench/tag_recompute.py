"""Set-based automatic tag recompute after a definition change: the cost of logging every link
it adds or removes as a tag_added / tag_removed record event (INSERT ... SELECT).

Loads --n leads (bench/segments.py's data), then applies a tag whose rule matches about half of
them (adds), and changes it to match about a fifth (removes), each time with the events logged and,
on a fresh copy of the tag, with the event statements switched off, and prints both and the ratio.

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
    real = rule_members._log_links
    for logged in (False, True):
        rule_members._log_links = real if logged else (lambda *a, **k: None)  # type: ignore[assignment]
        name = "bench_logged" if logged else "bench_silent"
        for low in (50, 80):
            started = time.perf_counter()
            svc.metadata.apply([tag(name, low)])
            took = time.perf_counter() - started
            with svc.engine.connect() as conn:
                events = conn.execute(select(func.count()).select_from(record_events)).scalar_one()
            print(f"  {svc.engine.dialect.name:10} events={'on ' if logged else 'off'} score>={low}: "
                  f"{took:7.2f} s   (event rows so far {events:,})", flush=True)
    rule_members._log_links = real
    svc.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"tag recompute after a definition change, {args.n:,} leads")
    if args.only != "postgresql":
        run(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", args.n)
    if args.only != "sqlite":
        found = pg_schema(args.pg_url)
        if found is None:
            print("  postgresql: does not answer, skipped")
            return
        url, schema = found
        try:
            run(url, args.n)
        finally:
            drop_schema(args.pg_url, schema)


if __name__ == "__main__":
    main()
