"""Eight processes add and remove children of one parent on PostgreSQL at once: the parent's
count, sum and max stay exact (no lost update, no stale max) and no writer deadlocks."""

from __future__ import annotations

import multiprocessing
import random
from decimal import Decimal
from pathlib import Path

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.store import rollups

ACCOUNT = {"$id": "account", "type": "object", "properties": {
    "name": {"x-field": "text"},
    "deals": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "count"}},
    "total": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "sum", "field": "amount"}},
    "biggest": {"x-field": "rollup", "x-result": "decimal", "x-rollup": {"object": "deal", "via": "account",
                                                                         "agg": "max", "field": "amount"}},
}}
DEAL = {"$id": "deal", "type": "object", "properties": {
    "name": {"x-field": "text"}, "amount": {"x-field": "decimal"},
    "account": {"x-field": "relation", "x-target": "account"},
}}
WRITERS = 8
STEPS = 30


def _writer(url: str, instance: str, parent: int, seed: int) -> str:
    svc = build_services(Settings(database_url=url, secret_key="test-secret", instance_dir=Path(instance)))
    rng = random.Random(seed)
    mine: list[int] = []
    try:
        for i in range(STEPS):
            if mine and rng.random() < 0.3:
                svc.records.delete("deal", mine.pop(rng.randrange(len(mine))))
            else:
                amount = f"{rng.randint(1, 100000) / 100:.2f}"
                mine.append(svc.records.create("deal", {"name": f"w{seed}-{i}", "amount": amount,
                                                        "account": parent})["id"])
        return "ok"
    except Exception as exc:  # reported to the test, which fails on anything but "ok"
        return f"{type(exc).__name__}: {exc}"
    finally:
        svc.close()


def test_concurrent_children_of_one_parent(pg_schema_url, tmp_path, apply_docs):
    """PostgreSQL only (pg_schema_url skips without it): SQLite has one writer at a time."""
    svc = build_services(Settings(database_url=pg_schema_url, secret_key="test-secret", instance_dir=tmp_path))
    svc.init()
    try:
        apply_docs(svc, ("object", ACCOUNT), ("object", DEAL))
        parent = svc.records.create("account", {"name": "hot"})["id"]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(WRITERS) as pool:
            results = pool.starmap(_writer, [(pg_schema_url, str(tmp_path), parent, s) for s in range(WRITERS)],
                                   chunksize=1)
        assert results == ["ok"] * WRITERS
        snap = svc.registry.current()
        deal = snap.tables["deal"]
        with svc.engine.connect() as conn:
            amounts = [a for (a,) in conn.execute(deal.select().with_only_columns(deal.c.amount)
                                                  .where(deal.c.deleted_at.is_(None), deal.c.account == parent))]
            for r in rollups.rollups_of(snap, "account"):
                assert rollups.verify(conn, snap, r, fix=False) == []
        got = svc.records.get("account", parent)
        assert got["deals"] == len(amounts)
        assert Decimal(got["total"]) == sum(amounts, Decimal(0))
        assert Decimal(got["biggest"]) == max(amounts)
        assert got["version"] == 1
    finally:
        svc.close()
