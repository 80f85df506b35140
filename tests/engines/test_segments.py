"""Segments: count, sorted pages and membership by the one rule; tracked segments record
segment_entered / segment_left events in the write that causes them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from metacrm.engines import segments, tags
from metacrm.engines.tag_store import segment_members
from metacrm.errors import DefinitionError, NotFound
from metacrm.store.events import timeline

LEAD = {"$id": "lead", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 50},
    "score": {"x-field": "integer"},
    "city": {"x-field": "select", "enum": ["sh", "bj", "gz"]},
}}
ACTIVITY = {"$id": "activity", "type": "object", "properties": {
    "lead": {"x-field": "relation", "x-target": "lead"},
}}
VIP = ("tag", {"name": "vip", "label": {"en": "VIP"}, "objects": ["lead"]})


def seg(name, rule, **extra):
    return ("segment", {"name": name, "label": {"en": name}, "object": "lead", "rule": rule, **extra})


HOT = seg("hot", {"all": [{"field": "city", "op": "in", "value": ["sh", "bj"]},
                          {"field": "score", "op": "gt", "value": 50}]}, sort=["-score"])
TRACKED = seg("vip_or_busy", {"any": [{"op": "has_tag", "value": "vip"},
                                      {"related": {"object": "activity", "via": "lead"}, "agg": "count",
                                       "op": "gte", "value": 2}]}, track=True)


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", LEAD), ("object", ACTIVITY), VIP, HOT, TRACKED)
    return services


def test_count_list_and_contains_use_one_rule(svc):
    ids = svc.records.bulk_create("lead", [
        {"name": "a", "city": "sh", "score": 60}, {"name": "b", "city": "bj", "score": 90},
        {"name": "c", "city": "gz", "score": 99}, {"name": "d", "city": "sh", "score": 10},
        {"name": "e", "city": "sh", "score": 75}]).ids
    svc.records.delete("lead", ids[4])
    with svc.engine.connect() as conn:
        snap = svc.registry.current(conn)
        assert segments.count(conn, snap, "hot") == 2
        assert segments.contains(conn, snap, "hot", ids[0])
        assert not segments.contains(conn, snap, "hot", ids[2])
        assert not segments.contains(conn, snap, "hot", ids[4])  # soft-deleted
    page1 = segments.list_records(svc, "hot", limit=1)
    page2 = segments.list_records(svc, "hot", limit=1, offset=1)
    assert [r["name"] for r in page1 + page2] == ["b", "a"]
    with pytest.raises(NotFound):
        segments.list_records(svc, "nope")


def test_tracked_segment_records_entering_and_leaving(svc):
    seen: list[tuple[str, int]] = []
    svc.records.listeners.append(lambda conn, snap, events: seen.extend(
        (e.kind, e.record_id) for e in events if e.kind.startswith("segment_")))
    a = svc.records.create("lead", {"name": "a"})["id"]
    first = svc.records.create("activity", {"lead": a})["id"]
    svc.records.create("activity", {"lead": a})
    assert seen == [("segment_entered", a)]  # later listeners see the event in the same write
    svc.records.delete("activity", first)
    with svc.records.transaction() as conn:
        tags.add_tags(conn, svc.registry.current(conn), "lead", [a], ["vip"])
    with svc.records.transaction() as conn:
        tags.remove_tags(conn, svc.registry.current(conn), "lead", [a], ["vip"])
    with svc.engine.connect() as conn:
        events = [(e["kind"], e["changes"]) for e in timeline(conn, "lead", a) if e["kind"].startswith("segment")]
        members = conn.execute(select(segment_members.c.record_id)).scalars().all()
    assert events == [
        ("segment_left", {"before": {"segment": "vip_or_busy"}, "after": {}}),
        ("segment_entered", {"before": {}, "after": {"segment": "vip_or_busy"}}),
        ("segment_left", {"before": {"segment": "vip_or_busy"}, "after": {}}),
        ("segment_entered", {"before": {}, "after": {"segment": "vip_or_busy"}}),
    ]
    assert members == []


def test_definition_change_rebaselines_without_events(svc, apply_docs):
    ids = svc.records.bulk_create("lead", [{"name": "a", "score": 5}, {"name": "b", "score": 70}]).ids
    apply_docs(svc, seg("vip_or_busy", {"field": "score", "op": "gt", "value": 50}, track=True))
    with svc.engine.connect() as conn:
        members = conn.execute(select(segment_members.c.record_id)).scalars().all()
        kinds = [e["kind"] for e in timeline(conn, "lead", ids[1])]
    assert members == [ids[1]] and "segment_entered" not in kinds
    svc.records.update("lead", ids[0], {"score": 99})
    with svc.engine.connect() as conn:
        assert "segment_entered" in [e["kind"] for e in timeline(conn, "lead", ids[0])]
    apply_docs(svc, seg("vip_or_busy", {"field": "score", "op": "gt", "value": 50}))  # untracked
    with svc.engine.connect() as conn:
        assert conn.execute(select(segment_members)).first() is None


def test_segment_definition_checks(svc, apply_docs):
    with pytest.raises(DefinitionError) as info:
        apply_docs(svc, ("segment", {"name": "bad", "label": {"en": "x"}, "object": "lead",
                                     "rule": {"field": "score", "op": "contains", "value": "x"},
                                     "sort": ["-nope"]}))
    assert {(p.field, p.code) for p in info.value.problems} == {
        ("segment/bad#/rule/op", "invalid_operator"), ("segment/bad#/sort/0", "unknown_field")}
    with pytest.raises(DefinitionError):
        apply_docs(svc, ("segment", {"name": "bad", "label": {"en": "x"}, "object": "martian", "rule": {"not": {}}}))


def test_refresh_records_time_driven_changes(svc, apply_docs):
    """Relative dates move records without writes: refresh records entered/left as events."""
    from datetime import UTC, datetime, timedelta

    apply_docs(svc, seg("fresh", {"field": "created_at", "op": "within_last", "value": {"amount": 1, "unit": "day"}},
                    track=True))
    a = svc.records.create("lead", {"name": "a"})["id"]
    later = datetime.now(UTC) + timedelta(days=2)
    with svc.records.transaction() as conn:
        done = segments.refresh_tracked(conn, svc.registry.current(conn), names=["fresh"], now=later)
    assert done == [{"segment": "fresh", "object": "lead", "added": 0, "removed": 1}]
    with svc.engine.connect() as conn:
        kinds = [e["kind"] for e in timeline(conn, "lead", a)]
    assert kinds[:2] == ["segment_left", "segment_entered"]
    with pytest.raises(NotFound), svc.records.transaction() as conn:
        segments.refresh_tracked(conn, svc.registry.current(conn), names=["nope"])
