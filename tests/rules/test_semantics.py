"""The documented semantics, case by case, on both databases and in memory:
missing values, empty strings, case, time zones, related records and data scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from metacrm.rules import matches, to_sql

OBJ = {"$id": "thing", "type": "object", "properties": {
    "t": {"x-field": "text"},
    "n": {"x-field": "integer"},
    "ts": {"x-field": "datetime"},
    "owner_team": {"x-field": "select", "enum": ["a", "b"]},
}}
CHILD = {"$id": "part", "type": "object", "properties": {
    "thing": {"x-field": "relation", "x-target": "thing"},
    "amount": {"x-field": "decimal", "x-scale": 2},
    "owner_team": {"x-field": "select", "enum": ["a", "b"]},
}}
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday; 09:00 in Shanghai, Sunday 20:00 in New York


@pytest.fixture
def world(services, apply_docs):
    apply_docs(services, ("object", OBJ), ("object", CHILD))
    rows = [
        {"t": None, "n": None, "ts": None},
        {"t": "", "n": 0, "ts": "2026-03-01T16:30:00Z"},  # Monday 00:30 in Shanghai, Sunday in UTC
        {"t": "Straße ABC", "n": 5, "ts": "2026-02-28T23:00:00Z", "owner_team": "a"},
        {"t": "abc", "n": 7, "ts": "2026-03-02T00:30:00Z", "owner_team": "b"},
    ]
    ids = services.records.bulk_create("thing", rows).ids
    services.records.bulk_create("part", [
        {"thing": ids[2], "amount": "10.10", "owner_team": "a"}, {"thing": ids[2], "amount": "20.20", "owner_team": "b"},
        {"thing": ids[3], "amount": "5.00", "owner_team": "b"}])
    return services, ids


def both(world, rule, tz="UTC", row_filter=None):
    svc, ids = world
    snap = svc.registry.current()
    table = snap.tables["thing"]
    with svc.engine.connect() as conn:
        sql = sorted(ids.index(i) for i in conn.execute(select(table.c.id).where(
            to_sql(rule, "thing", snap, now=NOW, tz=tz, row_filter=row_filter))).scalars())
        mem = sorted(ids.index(r["id"]) for r in svc.records.list("thing", conn=conn)
                     if matches(rule, r, "thing", snap, conn, now=NOW, tz=tz, row_filter=row_filter))
    assert sql == mem, (rule, sql, mem)
    return sql


def test_missing_and_empty_values(world):
    assert both(world, {"field": "t", "op": "is_empty"}) == [0, 1]
    assert both(world, {"field": "t", "op": "ne", "value": "abc"}) == [2]
    assert both(world, {"not": {"field": "t", "op": "eq", "value": "abc"}}) == [0, 1, 2]
    assert both(world, {"field": "n", "op": "ne", "value": 5}) == [1, 3]
    assert both(world, {"not": {"field": "n", "op": "gt", "value": 1}}) == [0, 1]
    assert both(world, {"field": "n", "op": "not_in", "value": [7]}) == [1, 2]


def test_case(world):
    assert both(world, {"field": "t", "op": "eq", "value": "ABC"}) == []
    assert both(world, {"field": "t", "op": "contains", "value": "ABC"}) == [2, 3]
    assert both(world, {"field": "t", "op": "starts_with", "value": "STRASSE"}) == []
    assert both(world, {"field": "t", "op": "contains", "value": "STRAßE"}) == [2]


def test_time_zones(world):
    day = {"field": "ts", "op": "eq", "value": "2026-03-02"}
    assert both(world, day) == [3]
    assert both(world, day, tz="Asia/Shanghai") == [1, 3]
    monday = {"field": "ts", "op": "on_weekday", "value": [1]}
    assert both(world, monday) == [3]
    assert both(world, monday, tz="Asia/Shanghai") == [1, 3]
    assert both(world, {"field": "ts", "op": "this_month"}) == [1, 3]
    assert both(world, {"field": "ts", "op": "this_month"}, tz="Asia/Shanghai") == [1, 2, 3]
    assert both(world, {"field": "ts", "op": "within_last", "value": {"amount": 1, "unit": "day"}}) == [1, 3]


def test_related_and_data_scope(world):
    svc, _ = world
    total = {"related": {"object": "part", "via": "thing"}, "agg": "sum", "field": "amount", "op": "gt", "value": 20}
    assert both(world, total) == [2]
    assert both(world, {"not": total}) == [0, 1, 3]
    parts = svc.registry.current().tables["part"]
    only_a = lambda name: parts.c.owner_team == "a" if name == "part" else None  # noqa: E731
    assert both(world, total, row_filter=only_a) == []
    assert both(world, {"related": {"object": "part", "via": "thing"}}, row_filter=only_a) == [2]
    none_max = {"related": {"object": "part", "via": "thing"}, "agg": "max", "field": "amount", "op": "lt", "value": 100}
    assert both(world, none_max) == [2, 3]
    assert both(world, {"not": none_max}) == [0, 1]
