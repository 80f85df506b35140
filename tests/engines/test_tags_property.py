"""Per-write maintenance equals set-based recompute: after any sequence of record writes and
manual tag changes, recomputing every automatic tag and tracked segment changes nothing.

The rules read related records one level deep (lead <- activity), two (account <- lead <-
activity), three (account <- lead <- activity <- note), and tags of related records (an account
rule testing the lead's automatic and manual tags)."""

from __future__ import annotations

import contextlib
import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from metacrm.engines import tags
from metacrm.engines.rule_members import member_plan, refresh_members
from metacrm.engines.tag_store import segment_members, tag_links
from metacrm.errors import MetaCRMError

ACCOUNT = {"$id": "account", "type": "object", "properties": {"name": {"x-field": "text"}}}
LEAD = {"$id": "lead", "type": "object", "properties": {
    "score": {"x-field": "integer"}, "city": {"x-field": "select", "enum": ["sh", "bj"]},
    "account": {"x-field": "relation", "x-target": "account"}}}
ACTIVITY = {"$id": "activity", "type": "object", "properties": {
    "lead": {"x-field": "relation", "x-target": "lead"}, "type": {"x-field": "select", "enum": ["call", "mail"]}}}
NOTE = {"$id": "note", "type": "object", "properties": {
    "activity": {"x-field": "relation", "x-target": "activity"}, "urgent": {"x-field": "boolean"}}}


def tag(name, rule=None, objects=("lead",)):
    return ("tag", {"name": name, "label": {"en": name}, "objects": list(objects)} | ({"rule": rule} if rule else {}))


def leads(where):
    return {"related": {"object": "lead", "via": "account"}, "where": where}


CALL = {"related": {"object": "activity", "via": "lead"}, "where": {"field": "type", "op": "eq", "value": "call"}}
URGENT_NOTE = {"related": {"object": "activity", "via": "lead"}, "where": {
    "related": {"object": "note", "via": "activity"}, "where": {"field": "urgent", "op": "eq", "value": True}}}


DEFS = [
    tag("vip"),
    tag("hot", {"field": "score", "op": "gte", "value": 50}),
    tag("called", {"related": {"object": "activity", "via": "lead"},
                   "where": {"field": "type", "op": "eq", "value": "call"}}),
    tag("busy", {"related": {"object": "activity", "via": "lead"}, "agg": "count", "op": "gte", "value": 2}),
    tag("hot_vip", {"all": [{"op": "has_tag", "value": "hot"}, {"op": "has_tag", "value": "vip"}]}),
    ("segment", {"name": "focus", "label": {"en": "Focus"}, "object": "lead", "track": True,
                 "rule": {"any": [{"op": "has_tag", "value": "hot_vip"}, {"op": "has_tag", "value": "busy"}]}}),
    # two levels: an account with a lead that had a call
    tag("acct_called", leads(CALL), ["account"]),
    # three levels: an account with a lead with an activity with an urgent note
    tag("acct_urgent", leads(URGENT_NOTE), ["account"]),
    # tags of related records: the lead's automatic tag (itself testing a manual one) and count
    tag("acct_hot_vip", leads({"op": "has_tag", "value": "hot_vip"}), ["account"]),
    tag("acct_two_busy", {"related": {"object": "lead", "via": "account"}, "agg": "count", "op": "gte", "value": 2,
                          "where": {"any": [{"op": "has_tag", "value": "busy"}, {"not": {"op": "not_has_tag",
                                                                                         "value": "vip"}}]}},
        ["account"]),
    ("segment", {"name": "key_accounts", "label": {"en": "Key"}, "object": "account", "track": True,
                 "rule": {"all": [{"op": "has_tag", "value": "acct_called"},
                                  {"not": leads({"all": [CALL, {"field": "score", "op": "lt", "value": 20}]})}]}}),
]

ops = st.one_of(
    st.tuples(st.just("account")),
    st.tuples(st.just("lead"), st.integers(0, 100), st.integers(0, 3)),
    st.tuples(st.just("move_lead"), st.integers(0, 9), st.integers(0, 3)),
    st.tuples(st.just("note"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("flip_note"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("move_note"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("delete_note"), st.integers(0, 9)),
    st.tuples(st.just("restore_activity"), st.integers(0, 9)),
    st.tuples(st.just("score"), st.integers(0, 9), st.integers(0, 100)),
    st.tuples(st.just("delete_lead"), st.integers(0, 9)),
    st.tuples(st.just("restore_lead"), st.integers(0, 9)),
    st.tuples(st.just("activity"), st.integers(0, 9), st.sampled_from(["call", "mail"])),
    st.tuples(st.just("move_activity"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("delete_activity"), st.integers(0, 9)),
    st.tuples(st.just("vip"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("bulk"), st.integers(0, 100)),
    st.tuples(st.just("bulk_acts"), st.integers(0, 100)),
)


def apply_op(svc, op, ids):
    leads, acts, accounts, notes = ids["lead"], ids["activity"], ids["account"], ids["note"]
    kind = op[0]
    pick = lambda xs, i: xs[i % len(xs)] if xs else None  # noqa: E731
    if kind == "account":
        accounts.append(svc.records.create("account", {"name": "a"})["id"])
    elif kind == "lead":
        leads.append(svc.records.create("lead", {"score": op[1], "account": pick(accounts, op[2])})["id"])
    elif kind == "move_lead" and leads:
        svc.records.update("lead", pick(leads, op[1]), {"account": pick(accounts, op[2])})
    elif kind == "note" and acts:
        notes.append(svc.records.create("note", {"activity": pick(acts, op[1]), "urgent": op[2]})["id"])
    elif kind == "flip_note" and notes:
        svc.records.update("note", pick(notes, op[1]), {"urgent": op[2]})
    elif kind == "move_note" and notes:
        svc.records.update("note", pick(notes, op[1]), {"activity": pick(acts, op[2])})
    elif kind == "delete_note" and notes:
        svc.records.delete("note", pick(notes, op[1]))
    elif kind == "restore_activity" and acts:
        svc.records.restore("activity", pick(acts, op[1]))
    elif kind == "bulk":
        leads.extend(svc.records.bulk_create("lead", [{"score": (op[1] + i) % 101, "account": pick(accounts, op[1] + i)}
                                                      for i in range(25)]).ids)
    elif kind == "bulk_acts" and leads:  # more than IN_MEMORY_MAX: refreshed in SQL by id
        acts.extend(svc.records.bulk_create("activity", [{"lead": pick(leads, op[1] + i), "type": "call"}
                                                         for i in range(25)]).ids)
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
    apply_docs(services, ("object", ACCOUNT), ("object", LEAD), ("object", ACTIVITY), ("object", NOTE), *DEFS)
    snap = services.registry.current()
    tables = snap.tables

    @settings(max_examples=int(os.environ.get("METACRM_TAGS_EXAMPLES", "20")), deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(ops, min_size=1, max_size=24))
    @example([("lead", 0, 0), ("activity", 0, "mail"), ("move_lead", 0, 1), ("activity", 0, "call"),  # 2 levels
              ("delete_activity", 1), ("restore_activity", 1)])
    @example([("lead", 0, 0), ("lead", 0, 1), ("activity", 0, "call"), ("move_activity", 0, 1)])
    @example([("lead", 0, 0), ("activity", 0, "mail"), ("note", 0, True), ("flip_note", 0, False),  # 3 levels
              ("move_lead", 0, 1), ("flip_note", 0, True)])
    @example([("lead", 0, 0), ("activity", 0, "mail"), ("note", 0, True), ("delete_note", 0)])
    @example([("lead", 0, 0), ("lead", 0, 1), ("activity", 0, "mail"), ("note", 0, True), ("move_note", 0, 1),
              ("activity", 1, "mail"), ("move_note", 0, 1), ("delete_activity", 1)])
    @example([("lead", 90, 0), ("vip", 0, True)])  # tags of related records: a manual one, then an automatic one
    @example([("lead", 90, 0), ("vip", 0, True), ("score", 0, 10), ("lead", 10, 1), ("vip", 1, True), ("score", 1, 95),
              ("vip", 0, False)])
    @example([("lead", 0, 0), ("bulk_acts", 0), ("bulk", 3), ("bulk_acts", 7), ("delete_lead", 0)])  # by id in SQL
    def check(sequence):
        with services.engine.begin() as conn:
            for t in (tag_links, segment_members, *(tables[o] for o in ("note", "activity", "lead", "account"))):
                conn.execute(delete(t))
        ids: dict[str, list[int]] = {"account": [], "lead": [], "activity": [], "note": []}
        ids["account"] = services.records.bulk_create("account", [{"name": "a"}, {"name": "b"}]).ids
        for op in sequence:
            with contextlib.suppress(MetaCRMError):  # writes to deleted records are refused: fine
                apply_op(services, op, ids)
        with services.engine.begin() as conn:
            done = refresh_members(conn, snap, member_plan(snap).members, "UTC")
        assert all(d["added"] == 0 and d["removed"] == 0 for d in done), (sequence, done)

    check()
