"""Tags: manual tags with events, automatic tags kept per write (also through related records and
other tags) and set-based after a definition change, counts, exclusive groups, form option tags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from metacrm.engines import tags
from metacrm.engines.forms import submit_form
from metacrm.engines.tag_store import tag_links
from metacrm.errors import DefinitionError, NotFound, ValidationError
from metacrm.store.events import timeline

LEAD = {"$id": "lead", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 50},
    "score": {"x-field": "integer"},
    "city": {"x-field": "select", "enum": ["sh", "bj"]},
    "interests": {"x-field": "multiselect", "items": {"type": "string", "enum": ["food", "sport"]}},
}}
ACTIVITY = {"$id": "activity", "type": "object", "properties": {
    "lead": {"x-field": "relation", "x-target": "lead"},
    "type": {"x-field": "select", "enum": ["call", "mail"]},
}}


def tag(name, rule=None, group=None, objects=("lead",)):
    doc = {"name": name, "label": {"en": name, "zh": name}, "objects": list(objects)}
    if rule is not None:
        doc["rule"] = rule
    if group:
        doc["group"] = group
    return ("tag", doc)


BASE = [
    ("tag_group", {"name": "intent", "label": {"en": "Intent"}, "exclusive": True}),
    tag("vip"), tag("warm", group="intent"), tag("cold", group="intent"),
    tag("hot", {"field": "score", "op": "gte", "value": 80}),
    tag("hot_vip", {"all": [{"op": "has_tag", "value": "hot"}, {"op": "has_tag", "value": "vip"}]}),
    tag("called", {"related": {"object": "activity", "via": "lead"},
                   "where": {"field": "type", "op": "eq", "value": "call"}}),
]


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", LEAD), ("object", ACTIVITY), *BASE)
    return services


def links(svc, rid):
    with svc.engine.connect() as conn:
        return tags.record_tags(conn, "lead", rid)


def change(svc, fn, ids, names, **kw):
    with svc.records.transaction() as conn:
        return fn(conn, svc.registry.current(conn), "lead", ids, names, **kw)


def test_automatic_tag_follows_writes(svc):
    a = svc.records.create("lead", {"name": "A", "score": 90})
    b = svc.records.create("lead", {"name": "B", "score": 10})
    assert links(svc, a["id"]) == ["hot"] and links(svc, b["id"]) == []
    svc.records.update("lead", a["id"], {"score": 50})
    svc.records.update("lead", b["id"], {"score": 80})
    assert links(svc, a["id"]) == [] and links(svc, b["id"]) == ["hot"]
    svc.records.delete("lead", b["id"])
    assert links(svc, b["id"]) == []
    svc.records.restore("lead", b["id"])
    assert links(svc, b["id"]) == ["hot"]


def test_automatic_tag_is_written_in_the_record_transaction(svc):
    with pytest.raises(RuntimeError), svc.records.transaction() as conn:
        rid = svc.records.create("lead", {"name": "A", "score": 95}, conn=conn)["id"]
        assert tags.record_tags(conn, "lead", rid) == ["hot"]
        raise RuntimeError("roll back")
    with svc.engine.connect() as conn:
        assert conn.execute(select(tag_links)).first() is None


def test_related_record_changes_recompute_the_parent(svc):
    a = svc.records.create("lead", {"name": "A"})
    b = svc.records.create("lead", {"name": "B"})
    act = svc.records.create("activity", {"lead": a["id"], "type": "mail"})
    assert links(svc, a["id"]) == []
    svc.records.update("activity", act["id"], {"type": "call"})
    assert links(svc, a["id"]) == ["called"]
    svc.records.update("activity", act["id"], {"lead": b["id"]})
    assert links(svc, a["id"]) == [] and links(svc, b["id"]) == ["called"]
    svc.records.delete("activity", act["id"])
    assert links(svc, b["id"]) == []


def test_manual_tags_log_events_and_drive_dependent_tags(svc):
    a = svc.records.create("lead", {"name": "A", "score": 85})
    added = change(svc, tags.add_tags, [a["id"]], ["vip", "vip"], actor_id=None)
    assert added == {a["id"]: ["vip"]}
    assert links(svc, a["id"]) == ["hot", "hot_vip", "vip"]
    assert change(svc, tags.add_tags, [a["id"]], ["vip"]) == {}
    removed = change(svc, tags.remove_tags, [a["id"]], ["vip"])
    assert removed == {a["id"]: ["vip"]}
    assert links(svc, a["id"]) == ["hot"]
    with svc.engine.connect() as conn:
        kinds = [(e["kind"], e["changes"], (e["context"] or {}).get("source")) for e in timeline(conn, "lead", a["id"])]
    # newest first: the automatic tag that tests vip follows it, logged as its own events (source auto)
    assert kinds[:4] == [("tag_removed", {"before": {"tag": "hot_vip"}, "after": {}}, "auto"),
                         ("tag_removed", {"before": {"tag": "vip"}, "after": {}}, "manual"),
                         ("tag_added", {"before": {}, "after": {"tag": "hot_vip"}}, "auto"),
                         ("tag_added", {"before": {}, "after": {"tag": "vip"}}, "manual")]


def test_manual_tag_errors(svc):
    a = svc.records.create("lead", {"name": "A"})
    with pytest.raises(ValidationError) as info:
        change(svc, tags.add_tags, [a["id"]], ["nope", "hot"])
    assert [(p.field, p.code) for p in info.value.problems] == [("tags/0", "unknown_tag"), ("tags/1", "automatic_tag")]
    with pytest.raises(NotFound):
        change(svc, tags.add_tags, [a["id"], 999], ["vip"])
    svc.records.delete("lead", a["id"])
    with pytest.raises(NotFound):
        change(svc, tags.add_tags, [a["id"]], ["vip"])


def test_exclusive_group_replaces_the_other_tag(svc):
    a = svc.records.create("lead", {"name": "A"})
    change(svc, tags.add_tags, [a["id"]], ["warm"])
    change(svc, tags.add_tags, [a["id"]], ["cold"])
    assert links(svc, a["id"]) == ["cold"]
    with pytest.raises(ValidationError):
        change(svc, tags.add_tags, [a["id"]], ["cold", "warm"])


def test_batch_writes_match_single_writes(svc):
    """More than IN_MEMORY_MAX records per write go through SQL by id: same answer."""
    result = svc.records.bulk_create("lead", [{"name": f"n{i}", "score": i * 5} for i in range(30)])
    with svc.engine.connect() as conn:
        got = tags.tags_of(conn, "lead", result.ids)
    assert [rid for rid, ts in got.items() if "hot" in ts] == result.ids[16:]


def test_definition_change_recomputes_set_based(svc, apply_docs):
    ids = svc.records.bulk_create("lead", [{"name": f"n{i}", "score": i * 10} for i in range(11)]).ids
    change(svc, tags.add_tags, ids[:2], ["vip"])
    apply_docs(svc, tag("hot", {"field": "score", "op": "lte", "value": 10}))
    with svc.engine.connect() as conn:
        got = tags.tags_of(conn, "lead", ids)
        counts = tags.tag_counts(conn, svc.registry.current(conn).tables, "lead")
    assert [rid for rid, ts in got.items() if "hot" in ts] == ids[:2]
    assert got[ids[0]] == ["hot", "hot_vip", "vip"]  # the dependent tag followed
    assert counts == {"lead": {"hot": 2, "hot_vip": 2, "vip": 2}}
    svc.records.delete("lead", ids[0])
    with svc.engine.connect() as conn:
        assert tags.tag_counts(conn, svc.registry.current(conn).tables, "lead")["lead"]["vip"] == 1
    # a tag that loses its rule keeps its links as manual ones
    apply_docs(svc, tag("hot"))
    with svc.engine.connect() as conn:
        sources = set(conn.execute(select(tag_links.c.source).where(tag_links.c.tag == "hot")).scalars())
    assert sources == {"manual"}


def test_recompute_repairs_drift(svc):
    ids = svc.records.bulk_create("lead", [{"name": f"n{i}", "score": 90} for i in range(3)]).ids
    with svc.engine.begin() as conn:
        conn.execute(tag_links.delete().where(tag_links.c.record_id == ids[0]))
        done = tags.recompute(conn, svc.registry.current(conn), object_name="lead", tags=["hot"])
    assert {d["tag"]: (d["added"], d["removed"]) for d in done} == {"hot": (1, 0), "hot_vip": (0, 0)}


def test_tag_definition_checks(svc, apply_docs):
    bad = [
        tag("a1", {"field": "nope", "op": "eq", "value": 1}),
        tag("a2", group="missing"),
        tag("a3", objects=["martian"]),
        tag("c1", {"op": "has_tag", "value": "c2"}),
        tag("c2", {"op": "not_has_tag", "value": "c1"}),
    ]
    with pytest.raises(DefinitionError) as info:
        apply_docs(svc, *bad)
    got = {(p.field, p.code) for p in info.value.problems}
    assert got == {("tag/a1#/rule/field", "unknown_field"), ("tag/a2#/group", "unknown_group"),
                   ("tag/a3#/objects/0", "unknown_object"), ("tag/c1#/rule", "tag_cycle"),
                   ("tag/c2#/rule", "tag_cycle")}
    with pytest.raises(DefinitionError):
        apply_docs(svc, tag("Bad-Name"))


def test_form_option_tags(svc, apply_docs):
    form = {"name": "signup", "object": "lead", "sections": [{"fields": [
        "name", {"field": "city", "option_tags": {"sh": ["vip"]}},
        {"field": "interests", "option_tags": {"food": ["warm"], "sport": ["vip"]}}]}]}
    apply_docs(svc, ("form", form))
    record = submit_form(svc, "signup", {"name": "A", "city": "sh", "interests": ["food", "sport"]})
    assert record["tags"] == ["vip", "warm"]
    with svc.engine.connect() as conn:
        rows = conn.execute(select(tag_links.c.tag, tag_links.c.source).where(
            tag_links.c.record_id == record["id"])).all()
        events = [e["kind"] for e in timeline(conn, "lead", record["id"])]
    assert {tuple(r) for r in rows} == {("vip", "form"), ("warm", "form")}
    assert events.count("tag_added") == 2 and "create" in events
    with pytest.raises(ValidationError):
        submit_form(svc, "signup", {"name": "B", "score": 3})
    bad = {**form, "name": "bad", "sections": [{"fields": ["name", {"field": "city", "option_tags": {"sh": ["hot"]}}]}]}
    with pytest.raises(DefinitionError) as info:
        apply_docs(svc, ("form", bad))
    assert info.value.problems[0].code == "automatic_tag"
