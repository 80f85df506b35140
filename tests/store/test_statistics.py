"""Planner statistics are refreshed where tables change shape: applied definitions, bulk writes
(counted per table across calls, refreshed after commit by a background job) and the daily pass."""

from __future__ import annotations

from sqlalchemy import text

from metacrm.engines import plan_stats
from metacrm.flows.jobs import registered
from metacrm.flows.schedules import _maintenance
from metacrm.store.statistics import GROWTH_ROWS, refresh_statistics

OBJ = {"$id": "stat_row", "type": "object", "properties": {"name": {"x-field": "text"}, "n": {"x-field": "integer",
                                                                                          "x-index": True}}}


def _known(svc) -> int | None:
    with svc.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            if not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
                return None
            stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'obj_stat_row'")).scalar()
            return int(stat.split()[0]) if stat else None
        value = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('obj_stat_row')")).scalar()
        return None if value is None or value < 0 else int(value)


def test_small_tables_are_left_alone_and_grown_ones_analysed_once(services, apply_docs, monkeypatch):
    monkeypatch.setattr(plan_stats, "later", lambda conn, job, **kw: None)  # only the calls below
    apply_docs(services, ("object", OBJ))
    services.records.bulk_create("stat_row", [{"name": "a", "n": i} for i in range(10)])
    assert refresh_statistics(services.engine, ["obj_stat_row"]) == []
    services.records.bulk_create("stat_row", [{"name": "b", "n": i} for i in range(GROWTH_ROWS)])
    assert refresh_statistics(services.engine, ["obj_stat_row"]) == ["obj_stat_row"]
    assert _known(services) == GROWTH_ROWS + 10
    assert refresh_statistics(services.engine, ["obj_stat_row"]) == []  # not grown since
    services.records.bulk_create("stat_row", [{"name": "c", "n": i} for i in range(GROWTH_ROWS)])
    assert "obj_stat_row" in refresh_statistics(services.engine)  # grown by more than half


def test_bulk_writes_ask_for_statistics_after_commit(services, apply_docs, monkeypatch):
    apply_docs(services, ("object", OBJ))
    asked = []
    monkeypatch.setattr(plan_stats, "later", lambda conn, job, **kw: asked.append((job, kw)))
    plan_stats._written.clear()
    half = GROWTH_ROWS // 2
    for _ in range(2):  # an import's batches count together
        services.records.bulk_create("stat_row", [{"name": "x", "n": i} for i in range(half)])
    assert asked == [("store.statistics", {"tables": ["obj_stat_row"]})]
    assert registered("store.statistics")(services, tables=["obj_stat_row"]) == {"analysed": ["obj_stat_row"]}
    assert "store.statistics" in _maintenance
