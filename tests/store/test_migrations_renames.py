"""Renames carry data (issue 24): `x-renamed-from` renames the column, `x-option-renames` rewrites the
stored option values; the plan says so, and applying the same definitions again plans nothing."""

import copy

import pytest

from metacrm.errors import Conflict, DefinitionError, DestructiveChange, ValidationError
from metacrm.store.columns import live_table

LEAD = {"$id": "lead", "type": "object",
        "properties": {"name": {"x-field": "text", "maxLength": 50},
                       "code": {"x-field": "text", "maxLength": 40, "x-unique": True},
                       "city": {"x-field": "select", "enum": ["sh", "bj", "gz"]},
                       "interests": {"x-field": "multiselect", "items": {"enum": ["ski", "golf", "tea"]}}},
        "required": ["name"]}


def doc(**props):
    out = copy.deepcopy(LEAD)
    for name, decl in props.items():
        if decl is None:
            del out["properties"][name]
        else:
            out["properties"][name] = decl
    return out


def columns(svc):
    with svc.engine.connect() as conn:
        return live_table(conn, "obj_lead")


def fill(svc):
    return [svc.records.create("lead", r)["id"] for r in (
        {"name": "Ann", "code": "A1", "city": "sh", "interests": ["ski", "tea"]},
        {"name": "Bob", "code": "B2", "city": "bj", "interests": ["tea"]},
        {"name": "Cat", "city": "sh", "interests": ["golf", "ski"]},
        {"name": "Dan"})]


def test_a_renamed_field_keeps_its_column_and_data(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    ids = fill(services)
    renamed = doc(code=None, name=None,
                  ref={"x-field": "text", "maxLength": 40, "x-unique": True, "x-renamed-from": "code"},
                  full_name={"x-field": "text", "maxLength": 80, "x-renamed-from": "name"})
    renamed["required"] = ["full_name"]
    plan = services.metadata.plan([("object", "lead", renamed)])
    ops = [(a.op, a.target) for a in plan.tables["lead"]]
    assert ("rename_column", "ref") in ops and ("rename_column", "full_name") in ops
    assert not any(op in ("add_column", "retire_column", "backfill") for op, _ in ops), ops
    assert not plan.problems
    apply_docs(services, ("object", renamed))
    live = columns(services)
    assert {"ref", "full_name"} <= set(live.columns) and not {"code", "name"} & set(live.columns)
    assert live.columns["full_name"].shape.length == 80
    got = {r["id"]: (r["full_name"], r["ref"]) for r in services.records.list("lead")}
    assert got == {ids[0]: ("Ann", "A1"), ids[1]: ("Bob", "B2"), ids[2]: ("Cat", None), ids[3]: ("Dan", None)}
    assert not services.metadata.plan([("object", "lead", renamed)]).changed
    # still unique and still required under the new names
    assert ("ref",) in columns(services).indexes.values()
    with pytest.raises((Conflict, ValidationError)):
        services.records.create("lead", {"full_name": "Eve", "ref": "A1"})
    # and no longer required afterwards: the NOT NULL check (PostgreSQL) followed the rename
    relaxed = copy.deepcopy(renamed)
    relaxed["required"] = []
    apply_docs(services, ("object", relaxed))
    assert not services.metadata.plan([("object", "lead", relaxed)]).changed
    if services.engine.dialect.name == "postgresql":
        assert not columns(services).checks & {"ck_obj_lead_name_required", "ck_obj_lead_full_name_required"}
    services.records.create("lead", {"ref": "Z9"})


def test_renamed_options_rewrite_stored_values(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    ids = fill(services)
    renamed = doc(city={"x-field": "select", "enum": ["shanghai", "bj", "gz"], "x-option-renames": {"sh": "shanghai"}},
                  interests={"x-field": "multiselect", "items": {"enum": ["skiing", "golf", "tea"]},
                             "x-option-renames": {"ski": "skiing"}})
    plan = services.metadata.plan([("object", "lead", renamed)])
    described = {a.target: a.description for a in plan.tables["lead"] if a.op == "rename_options"}
    assert "rewrite 2 stored value(s)" in described["city"] and "'sh' -> 'shanghai'" in described["city"]
    assert "rewrite 2 stored value(s)" in described["interests"]
    assert not plan.problems  # a renamed option is not a removed one
    apply_docs(services, ("object", renamed))
    got = {r["id"]: (r["city"], r["interests"]) for r in services.records.list("lead")}
    assert got == {ids[0]: ("shanghai", ["skiing", "tea"]), ids[1]: ("bj", ["tea"]),
                   ids[2]: ("shanghai", ["golf", "skiing"]), ids[3]: (None, None)}
    assert not services.metadata.plan([("object", "lead", renamed)]).changed
    # removing an option without a rename still hides values: refused unless forced
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", doc(city={"x-field": "select", "enum": ["shanghai", "gz"]},
                                            interests=renamed["properties"]["interests"])))
    assert "options removed: bj" in info.value.problems[0].message


def test_rename_declarations_are_checked(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    with pytest.raises(DefinitionError) as info:
        apply_docs(services, ("object", doc(ref={"x-field": "text", "x-renamed-from": "code"})))
    assert {p.code for p in info.value.problems} == {"rename_source_declared"}
    with pytest.raises(DefinitionError) as info:
        apply_docs(services, ("object", doc(city={"x-field": "select", "enum": ["sh", "gz"],
                                                  "x-option-renames": {"bj": "beijing", "gz": "sh"}})))
    codes = sorted(p.code for p in info.value.problems)
    assert codes == ["option_still_declared", "unknown_option"]
    # the new name already holds the data of an earlier, removed field: refused, nothing renamed
    apply_docs(services, ("object", doc(score={"x-field": "text"})))
    apply_docs(services, ("object", doc()), force=True)  # 'score' removed, its column kept
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", doc(code=None, score={"x-field": "text", "x-renamed-from": "code"})))
    assert "rename_target_exists" in [p.code for p in info.value.problems]
    assert {"code", "score"} <= set(columns(services).columns)


def test_select_becomes_multiselect_keeping_every_value(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    ids = fill(services)
    multi = doc(city={"x-field": "multiselect", "items": {"enum": ["sh", "bj", "gz", "sz"]}})
    plan = services.metadata.plan([("object", "lead", multi)])
    assert [a.op for a in plan.tables["lead"]] == ["alter_type"] and not plan.problems  # a widening: no force
    apply_docs(services, ("object", multi))
    got = {r["id"]: r["city"] for r in services.records.list("lead")}
    assert got == {ids[0]: ["sh"], ids[1]: ["bj"], ids[2]: ["sh"], ids[3]: None}
    assert not services.metadata.plan([("object", "lead", multi)]).changed
    rid = services.records.create("lead", {"name": "Eve", "city": ["sz", "gz"]})["id"]
    assert services.records.get("lead", rid)["city"] == ["sz", "gz"]
    # an option the multiselect no longer offers hides values: refused unless forced
    with pytest.raises(DestructiveChange):
        apply_docs(services, ("object", doc(city={"x-field": "multiselect", "items": {"enum": ["bj"]}})))


def test_select_to_multiselect_with_renamed_options(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    ids = fill(services)
    multi = doc(city={"x-field": "multiselect", "items": {"enum": ["shanghai", "bj", "gz"]},
                      "x-option-renames": {"sh": "shanghai"}})
    plan = services.metadata.plan([("object", "lead", multi)])
    assert [a.op for a in plan.tables["lead"]] == ["alter_type", "rename_options"] and not plan.problems
    apply_docs(services, ("object", multi))
    got = {r["id"]: r["city"] for r in services.records.list("lead")}
    assert got == {ids[0]: ["shanghai"], ids[1]: ["bj"], ids[2]: ["shanghai"], ids[3]: None}
    assert not services.metadata.plan([("object", "lead", multi)]).changed
