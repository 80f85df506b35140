"""Automatic tags over related records nested two and three levels deep, tags of related records,
automatic tag events (source auto) and the workflows they start."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

# the objects of the property test (account <- lead <- activity <- note); pytest puts this folder on sys.path
from test_tags_property import ACCOUNT, ACTIVITY, LEAD, NOTE, leads, tag

from metacrm.engines import tags
from metacrm.flows import executor, service
from metacrm.flows.tables import runs
from metacrm.store.events import timeline


def activities(where):
    return {"related": {"object": "activity", "via": "lead"}, "where": where}


DEFS = [
    tag("vip"),
    tag("hot", {"field": "score", "op": "gte", "value": 80}),
    tag("acct_called", leads(activities({"field": "type", "op": "eq", "value": "call"})), ["account"]),
    tag("acct_urgent", leads(activities({"related": {"object": "note", "via": "activity"},
                                         "where": {"field": "urgent", "op": "eq", "value": True}})), ["account"]),
    tag("acct_vip_hot", leads({"all": [{"op": "has_tag", "value": "vip"}, {"op": "has_tag", "value": "hot"}]}),
        ["account"]),
]


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", ACCOUNT), ("object", LEAD), ("object", ACTIVITY), ("object", NOTE), *DEFS)
    yield services
    executor.shutdown(services)


def account_tags(svc, conn=None):
    if conn is None:
        with svc.engine.connect() as c:
            return account_tags(svc, c)
    return tags.tags_of(conn, "account", [1, 2])


def test_a_write_two_levels_down_retags_the_account_in_its_transaction(svc):
    a, b = svc.records.bulk_create("account", [{"name": "a"}, {"name": "b"}]).ids
    lead = svc.records.create("lead", {"account": a})["id"]
    act = svc.records.create("activity", {"lead": lead, "type": "mail"})["id"]
    assert account_tags(svc) == {a: [], b: []}
    with pytest.raises(RuntimeError), svc.records.transaction() as conn:
        svc.records.update("activity", act, {"type": "call"}, conn=conn)
        assert account_tags(svc, conn) == {a: ["acct_called"], b: []}  # seen inside the write's transaction
        raise RuntimeError("roll back")
    assert account_tags(svc) == {a: [], b: []}
    svc.records.update("activity", act, {"type": "call"})
    assert account_tags(svc) == {a: ["acct_called"], b: []}
    svc.records.update("lead", lead, {"account": b})  # the middle record moves: both accounts follow
    assert account_tags(svc) == {a: [], b: ["acct_called"]}
    svc.records.delete("activity", act)
    assert account_tags(svc) == {a: [], b: []}


def test_a_write_three_levels_down_retags_the_account(svc):
    a = svc.records.create("account", {"name": "a"})["id"]
    lead = svc.records.create("lead", {"account": a})["id"]
    act = svc.records.create("activity", {"lead": lead, "type": "mail"})["id"]
    note = svc.records.create("note", {"activity": act, "urgent": False})["id"]
    assert account_tags(svc)[a] == []
    svc.records.update("note", note, {"urgent": True})
    assert account_tags(svc)[a] == ["acct_urgent"]
    svc.records.delete("activity", act)  # the middle of the chain goes: the note no longer counts
    assert account_tags(svc)[a] == []
    svc.records.restore("activity", act)
    assert account_tags(svc)[a] == ["acct_urgent"]


def test_tags_of_related_records_and_their_events(svc):
    a = svc.records.create("account", {"name": "a"})["id"]
    lead = svc.records.create("lead", {"account": a, "score": 90})["id"]
    with svc.records.transaction() as conn:
        tags.add_tags(conn, svc.registry.current(conn), "lead", [lead], ["vip"])
    assert account_tags(svc)[a] == ["acct_vip_hot"]
    svc.records.update("lead", lead, {"score": 10})  # the lead's automatic tag goes, then the account's
    assert account_tags(svc)[a] == []
    with svc.engine.connect() as conn:
        acct = [(e["kind"], e["context"]) for e in timeline(conn, "account", a)]
        lead_events = [(e["kind"], e["context"]) for e in timeline(conn, "lead", lead)]
    assert acct[:2] == [("tag_removed", {"tag": "acct_vip_hot", "source": "auto"}),
                        ("tag_added", {"tag": "acct_vip_hot", "source": "auto"})]
    assert lead_events[0] == ("tag_removed", {"tag": "hot", "source": "auto"})
    assert ("tag_added", {"tag": "vip", "source": "manual"}) in lead_events


def test_definition_change_logs_tag_events_set_based(svc, apply_docs):
    ids = svc.records.bulk_create("lead", [{"score": s} for s in (10, 50, 90)]).ids
    apply_docs(svc, tag("hot", {"field": "score", "op": "gte", "value": 40}))
    with svc.engine.connect() as conn:
        got = {rid: [(e["kind"], e["changes"], e["context"]) for e in timeline(conn, "lead", rid)
                     if e["kind"].startswith("tag_")] for rid in ids}
    added = ("tag_added", {"before": {}, "after": {"tag": "hot"}}, {"tag": "hot", "source": "auto"})
    assert got == {ids[0]: [], ids[1]: [added], ids[2]: [added]}
    apply_docs(svc, tag("hot", {"field": "score", "op": "gte", "value": 60}))
    with svc.engine.connect() as conn:
        newest = timeline(conn, "lead", ids[1], limit=1)[0]
    assert (newest["kind"], newest["context"]) == ("tag_removed", {"tag": "hot", "source": "auto"})


def _settle(svc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executor.wait_idle(svc, 10)
        if not service.list_runs(svc, status="running"):
            return
        time.sleep(0.05)
    raise AssertionError("workflow runs did not finish")


def test_gaining_an_automatic_tag_starts_tag_added_workflows_within_the_loop_guard(svc, apply_docs):
    apply_docs(svc, ("workflow", {
        "name": "cool_down", "object": "lead", "trigger": {"type": "tag_added", "tag": "hot"}, "limits": {"max_depth": 3},
        "steps": [{"id": "cool", "type": "update_record", "set": {"score": 10}}]}))
    lead = svc.records.create("lead", {"score": 95})["id"]
    with svc.engine.connect() as conn:  # started in the write's transaction, with the tag event
        started = conn.execute(select(runs.c.workflow, runs.c.trigger, runs.c.record_id)).all()
    assert [tuple(r) for r in started] == [("cool_down", "tag_added", lead)]
    _settle(svc)
    assert svc.records.get("lead", lead)["score"] == 10
    with svc.engine.connect() as conn:
        assert tags.record_tags(conn, "lead", lead) == []
    # a pair that re-adds the tag forever is stopped by the workflows' loop guard
    apply_docs(svc, ("workflow", {
        "name": "heat_up", "object": "lead", "limits": {"max_depth": 3},
        "trigger": {"type": "record_updated", "fields": ["score"], "when": {"field": "score", "op": "lt", "value": 50}},
        "steps": [{"id": "heat", "type": "update_record", "set": {"score": 95}}]}))
    svc.records.update("lead", lead, {"score": 20})
    _settle(svc)
    done = sorted(service.list_runs(svc), key=lambda r: r["id"])
    assert len(done) < 10 and done[-1]["status"] == "failed" and done[-1]["error"]["code"] == "loop_limit"


def test_tags_testing_each_other_across_objects_are_a_cycle(svc, apply_docs):
    from metacrm.errors import DefinitionError

    apply_docs(svc, ("object", {**ACCOUNT, "properties": {
        **ACCOUNT["properties"], "primary_lead": {"x-field": "relation", "x-target": "lead"}}}))
    lead_side = tag("lead_of_key_account", {"related": {"object": "account", "via": "primary_lead"},
                                            "where": {"op": "has_tag", "value": "key_account"}})
    account_side = tag("key_account", leads({"op": "has_tag", "value": "lead_of_key_account"}), ["account"])
    with pytest.raises(DefinitionError) as info:
        apply_docs(svc, lead_side, account_side)
    assert {p.code for p in info.value.problems} == {"tag_cycle"}
