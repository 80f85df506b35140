"""Per-write maintenance equals set-based recompute: after any sequence of record writes and
manual tag changes, recomputing every automatic tag and tracked segment changes nothing."""

from __future__ import annotations

import contextlib
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from metacrm.engines import tags
from metacrm.engines.rule_members import member_plan, refresh_members
from metacrm.engines.tag_store import segment_members, tag_links
from metacrm.errors import MetaCRMError

LEAD = {"$id": "lead", "type": "object", "properties": {
    "score": {"x-field": "integer"}, "city": {"x-field": "select", "enum": ["sh", "bj"]}}}
ACTIVITY = {"$id": "activity", "type": "object", "properties": {
    "lead": {"x-field": "relation", "x-target": "lead"}, "type": {"x-field": "select", "enum": ["call", "mail"]}}}


def tag(name, rule=None):
    return ("tag", {"name": name, "label": {"en": name}, "objects": ["lead"]} | ({"rule": rule} if rule else {}))


DEFS = [
    tag("vip"),
    tag("hot", {"field": "score", "op": "gte", "value": 50}),
    tag("called", {"related": {"object": "activity", "via": "lead"},
                   "where": {"field": "type", "op": "eq", "value": "call"}}),
    tag("busy", {"related": {"object": "activity", "via": "lead"}, "agg": "count", "op": "gte", "value": 2}),
    tag("hot_vip", {"all": [{"op": "has_tag", "value": "hot"}, {"op": "has_tag", "value": "vip"}]}),
    ("segment", {"name": "focus", "label": {"en": "Focus"}, "object": "lead", "track": True,
                 "rule": {"any": [{"op": "has_tag", "value": "hot_vip"}, {"op": "has_tag", "value": "busy"}]}}),
]

ops = st.one_of(
    st.tuples(st.just("lead"), st.integers(0, 100)),
    st.tuples(st.just("score"), st.integers(0, 9), st.integers(0, 100)),
    st.tuples(st.just("delete_lead"), st.integers(0, 9)),
    st.tuples(st.just("restore_lead"), st.integers(0, 9)),
    st.tuples(st.just("activity"), st.integers(0, 9), st.sampled_from(["call", "mail"])),
    st.tuples(st.just("move_activity"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("delete_activity"), st.integers(0, 9)),
    st.tuples(st.just("vip"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("bulk"), st.integers(0, 100)),
)


def apply_op(svc, op, leads, acts):
    kind = op[0]
    pick = lambda xs, i: xs[i % len(xs)] if xs else None  # noqa: E731
    if kind == "lead":
        leads.append(svc.records.create("lead", {"score": op[1]})["id"])
    elif kind == "bulk":
        leads.extend(svc.records.bulk_create("lead", [{"score": (op[1] + i) % 101} for i in range(25)]).ids)
    elif kind == "score" and leads:
        svc.records.update("lead", pick(leads, op[1]), {"score": op[2]})
    elif kind == "delete_lead" and leads:
        svc.records.delete("lead", pick(leads, op[1]))
    elif kind == "restore_lead" and leads:
        svc.records.restore("lead", pick(leads, op[1]))
    elif kind == "activity" and leads:
        acts.append(svc.records.create("activity", {"lead": pick(leads, op[1]), "type": op[2]})["id"])
    elif kind == "move_activity" and acts:
        svc.records.update("activity", pick(acts, op[1]), {"lead": pick(leads, op[2])})
    elif kind == "delete_activity" and acts:
        svc.records.delete("activity", pick(acts, op[1]))
    elif kind == "vip" and leads:
        with svc.records.transaction() as conn:
            change = tags.add_tags if op[2] else tags.remove_tags
            change(conn, svc.registry.current(conn), "lead", [pick(leads, op[1])], ["vip"])


def test_per_write_maintenance_matches_recompute(services, apply_docs):
    apply_docs(services, ("object", LEAD), ("object", ACTIVITY), *DEFS)
    snap = services.registry.current()
    tables = snap.tables

    @settings(max_examples=int(os.environ.get("METACRM_TAGS_EXAMPLES", "12")), deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(ops, min_size=1, max_size=14))
    def check(sequence):
        with services.engine.begin() as conn:
            for t in (tag_links, segment_members, tables["activity"], tables["lead"]):
                conn.execute(delete(t))
        leads: list[int] = []
        acts: list[int] = []
        for op in sequence:
            with contextlib.suppress(MetaCRMError):  # writes to deleted records are refused: fine
                apply_op(services, op, leads, acts)
        with services.engine.begin() as conn:
            done = refresh_members(conn, snap, member_plan(snap).members, "UTC")
        assert all(d["added"] == 0 and d["removed"] == 0 for d in done), (sequence, done)

    check()
