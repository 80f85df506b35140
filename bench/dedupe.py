"""Dedupe scan over n leads (default 1,000,000): time, pairs found, precision and recall.

The generator (leadgen.py) makes 5% of the leads second entries of an existing person, typed
differently (spaces, a homophone character, a trailing space) with a new mobile and email, at
the same company. The scan uses the shipped definition (metadata/dedupe/lead.json): exact mobile,
email and WeChat, and a similar name (rapidfuzz, >= 0.65) at the same company, blocked by
(company, first character of the name). Precision and recall count record pairs of one person.
Leads are seeded with set-based inserts (setup, not measured). The last line is one JSON object;
its `ratio` is the worse back end's recall.

usage: python bench/dedupe.py [--n 1000000] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadgen import drop_schema, leads, pg_schema
from metacrm.config import Settings
from metacrm.engines.dedupe.scan import scan_pool
from metacrm.engines.wiring import build_services
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.bulk import insert_many
from metacrm.store.definitions import incoming_from_files

ROOT = Path(__file__).resolve().parent.parent


def seed(svc: Any, rows: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    snap = svc.registry.current()
    obj, table = snap.object("lead"), snap.tables["lead"]
    ctx = svc.records.ctx
    now = datetime.now(UTC)
    for s in range(0, len(rows), 20_000):
        batch = []
        for i, row in enumerate(rows[s:s + 20_000], start=s + 1):
            stored, problems = obj.prepare(row, False, ctx)
            assert not problems, problems
            full = {n: stored.get(n) for n in obj.fields}
            full.update(id=i, created_at=now, updated_at=now, created_by=None, owner_id=None, version=1,
                        deleted_at=None)
            batch.append(full)
        with svc.engine.begin() as conn:
            insert_many(conn, table, batch)
    return time.perf_counter() - start


def run(url: str, n: int, label: str, instance: Path) -> dict[str, Any]:
    rows, dups = leads(n, 0.05)
    person = list(range(n))
    for d, o in dups.items():
        person[d] = o
    sizes = Counter(person)
    true_pairs = sum(k * (k - 1) // 2 for k in sizes.values())
    svc = build_services(Settings(database_url=url, secret_key="bench", instance_dir=instance))
    svc.init()
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    seed_s = seed(svc, rows)
    result = scan_pool(svc, "lead")
    svc.close()
    found = result.found
    hits = sum(1 for a, b in found if person[a - 1] == person[b - 1])
    precision = hits / len(found) if found else 1.0
    recall = hits / true_pairs if true_pairs else 1.0
    out = {"backend": label, "n": n, "duplicates": len(dups), "true_pairs": true_pairs, "pairs": len(found),
           "groups": len(result.groups), "comparisons": result.comparisons, "seed_s": round(seed_s, 1),
           "scan_s": round(result.seconds, 2), "records_per_s": round(n / result.seconds),
           "precision": round(precision, 4), "recall": round(recall, 4)}
    print(f"{label:10} {n} leads: scan {result.seconds:.1f}s ({out['records_per_s']} leads/s, "
          f"{result.comparisons} comparisons), {len(found)} pairs in {len(result.groups)} groups, "
          f"precision {precision:.3f} recall {recall:.3f} (seed {seed_s:.0f}s)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run(f"sqlite:///{tmp}/bench.db", args.n, "sqlite", Path(tmp) / "i1"))
        pg = pg_schema(args.pg_url)
        if pg:
            try:
                results.append(run(pg[0], args.n, "postgresql", Path(tmp) / "i2"))
            finally:
                drop_schema(args.pg_url, pg[1])
        else:
            print("postgresql: not reachable, skipped", flush=True)
    print(json.dumps({"bench": "dedupe", "results": results, "ratio": min(r["recall"] for r in results)}))


if __name__ == "__main__":
    main()
