"""Applying changed object definitions migrates tables in place, additively, all or nothing."""

import copy

import pytest
from sqlalchemy import inspect, select

from metacrm.errors import DefinitionError, DestructiveChange

LEAD = {"$id": "lead", "type": "object", "x-label": {"en": "Lead", "zh": "线索"},
        "properties": {"name": {"x-field": "text", "maxLength": 50},
                       "status": {"x-field": "select", "enum": ["new", "won"]},
                       "score": {"x-field": "integer"}},
        "required": ["name"]}


def changed(**props):
    doc = copy.deepcopy(LEAD)
    for name, decl in props.items():
        if decl is None:
            del doc["properties"][name]
        else:
            doc["properties"][name] = decl
    return doc


def columns(svc, table="obj_lead"):
    with svc.engine.connect() as conn:
        return {c["name"]: c for c in inspect(conn).get_columns(table)}


def indexes(svc, table="obj_lead"):
    with svc.engine.connect() as conn:
        return {i["name"]: i for i in inspect(conn).get_indexes(table)}


def test_create_then_reapply_is_a_no_op(services, apply_docs):
    plan = apply_docs(services, ("object", LEAD))
    assert plan.changed and plan.tables["lead"][0].op == "create_table"
    assert {"id", "name", "status", "score", "created_at", "updated_at", "created_by", "owner_id", "version",
            "deleted_at"} <= set(columns(services))
    again = apply_docs(services, ("object", LEAD))
    assert not again.changed
    assert [h["version"] for h in services.metadata.history("object", "lead")] == [1]


def test_new_field_is_a_new_column_backfilled_with_its_default(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "a"}, {"name": "b"}])
    plan = apply_docs(services, ("object", changed(region={"x-field": "text", "default": "east"},
                                                   email={"x-field": "email", "x-unique": True})))
    ops = {(a.op, a.target) for a in plan.tables["lead"]}
    assert {("add_column", "region"), ("backfill", "region"), ("add_column", "email")} <= ops
    assert {r["region"] for r in services.records.list("lead")} == {"east"}
    assert any(ix["unique"] and ix["column_names"] == ["email"] for ix in indexes(services).values())
    assert len(services.metadata.history("object", "lead")) == 2


def test_widening_is_allowed_and_narrowing_refused(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 200},
                                            status={"x-field": "select", "enum": ["new", "won", "lost"]},
                                            score={"x-field": "decimal"})))
    record = services.records.create("lead", {"name": "x" * 150, "score": "1.5"})
    assert record["score"] == "1.50"
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 10},
                                                status={"x-field": "select", "enum": ["new"]})))
    fields = {p.field for p in info.value.problems}
    assert {"object lead/properties/name", "object lead/properties/status"} <= fields
    assert "maxLength shrinks" in str(info.value)


def test_incompatible_type_change_is_refused(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(score={"x-field": "date"})))
    assert "not a safe widening" in str(info.value)


def test_removing_a_field_needs_force_and_never_drops_data(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    rid = services.records.create("lead", {"name": "keep", "score": 7})["id"]
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(score=None)))
    assert info.value.problems[0].code == "field_removed"
    plan = apply_docs(services, ("object", changed(score=None)), force=True)
    assert [a.op for a in plan.tables["lead"]] == ["retire_column"]
    assert "score" in columns(services)
    assert "score" not in services.records.get("lead", rid)
    # bringing the field back finds the data where it was
    apply_docs(services, ("object", LEAD))
    assert services.records.get("lead", rid)["score"] == 7


def test_unique_on_duplicated_data_is_refused_even_with_force(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "same"}, {"name": "same"}])
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 50, "x-unique": True})),
                   force=True)
    assert info.value.problems[0].code == "unique_has_duplicates"


def test_required_field_with_empty_records_is_refused(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.create("lead", {"name": "no score"})
    doc = changed()
    doc["required"] = ["name", "score"]
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", doc))
    assert info.value.problems[0].code == "required_has_empty"


def test_a_failing_apply_changes_nothing(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    before = set(columns(services))
    broken_form = {"name": "lead_form", "object": "lead", "sections": [{"fields": ["name", "ghost"]}]}
    with pytest.raises(DefinitionError):
        apply_docs(services, ("object", changed(extra={"x-field": "text"})), ("form", broken_form))
    assert set(columns(services)) == before
    assert services.metadata.history("object", "lead")[-1]["version"] == 1


def test_relations_are_foreign_keys_with_an_index(services, apply_docs):
    account = {"$id": "account", "type": "object", "properties": {"name": {"x-field": "text"}}}
    apply_docs(services, ("object", account), ("object", changed(account={"x-field": "relation", "x-target": "account"})))
    with services.engine.connect() as conn:
        fks = inspect(conn).get_foreign_keys("obj_lead")
    assert any(fk["referred_table"] == "obj_account" and fk["constrained_columns"] == ["account"] for fk in fks)
    assert any(ix["column_names"] == ["account"] for ix in indexes(services).values())
    # adding a relation to an existing table also adds the reference
    apply_docs(services, ("object", changed(account={"x-field": "relation", "x-target": "account"},
                                            referrer={"x-field": "relation", "x-target": "lead"})))
    with services.engine.connect() as conn:
        fks = inspect(conn).get_foreign_keys("obj_lead")
    assert any(fk["constrained_columns"] == ["referrer"] for fk in fks)


def test_definitions_keep_their_key_order_and_checksum(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    exported = services.metadata.export().get("object", "lead")
    assert list(exported["properties"]) == list(LEAD["properties"])
    from metacrm.store.system import definitions
    with services.engine.connect() as conn:
        row = conn.execute(select(definitions).where(definitions.c.name == "lead")).one()
    assert len(row.checksum) == 64


def test_objects_referring_to_each_other_in_a_cycle_are_created_together(services, apply_docs):
    a = {"$id": "alpha", "type": "object", "properties": {"beta": {"x-field": "relation", "x-target": "beta"}}}
    b = {"$id": "beta", "type": "object", "properties": {"alpha": {"x-field": "relation", "x-target": "alpha"},
                                                         "me": {"x-field": "relation", "x-target": "beta"}}}
    apply_docs(services, ("object", a), ("object", b))
    first = services.records.create("alpha", {})
    second = services.records.create("beta", {"alpha": first["id"]})
    assert services.records.update("alpha", first["id"], {"beta": second["id"]})["beta"] == second["id"]
