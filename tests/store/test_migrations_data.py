"""Migrations never lose stored data: plans are computed against the live columns and the stored values."""

import copy

import pytest
from sqlalchemy import inspect, text

from metacrm.errors import DestructiveChange
from metacrm.store.columns import DECIMAL, INTEGER, TEXT, live_table

LEAD = {"$id": "lead", "type": "object", "x-label": {"en": "Lead", "zh": "线索"},
        "properties": {"name": {"x-field": "text", "maxLength": 50},
                       "code": {"x-field": "text", "maxLength": 40},
                       "score": {"x-field": "integer"}},
        "required": ["name"]}
ACCOUNT = {"$id": "account", "type": "object", "properties": {"name": {"x-field": "text"}}}
CUSTOMER = {"$id": "customer", "type": "object", "properties": {"name": {"x-field": "text"}}}


def changed(**props):
    doc = copy.deepcopy(LEAD)
    for name, decl in props.items():
        if decl is None:
            del doc["properties"][name]
        else:
            doc["properties"][name] = decl
    return doc


def live(svc, table="obj_lead"):
    with svc.engine.connect() as conn:
        return live_table(conn, table)


def refused(info) -> dict:
    return {p.code: p.message for p in info.value.problems}


def test_shrinking_text_that_would_cut_values_is_refused_even_with_force(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "x" * 45}, {"name": "y" * 30}, {"name": "short"}])
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 20})), force=True)
    message = refused(info)["would_lose_data"]
    assert "2 stored value(s) are longer" in message and "the longest has 45 characters" in message
    assert live(services).columns["name"].shape.length == 50
    assert sorted(len(r["name"]) for r in services.records.list("lead")) == [5, 30, 45]
    # a shrink every value fits needs force, then really shrinks the column
    apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 45})), force=True)
    assert live(services).columns["name"].shape.length == 45
    plan = apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 45})))
    assert not plan.changed


def test_decimal_precision_and_scale_reach_the_column(services, apply_docs):
    apply_docs(services, ("object", changed(amount={"x-field": "decimal", "x-precision": 18, "x-scale": 4})))
    rid = services.records.create("lead", {"name": "a", "amount": "12.5"})["id"]
    plan = apply_docs(services, ("object", changed(amount={"x-field": "decimal", "x-precision": 30, "x-scale": 6})))
    assert [a.op for a in plan.tables["lead"]] == ["alter_type"]
    shape = live(services).columns["amount"].shape
    assert (shape.family, shape.precision, shape.scale) == (DECIMAL, 30, 6)
    other = services.records.create("lead", {"name": "b", "amount": "1.234567"})["id"]
    assert services.records.get("lead", other)["amount"] == "1.234567"
    assert services.records.get("lead", rid)["amount"] == "12.500000"
    if services.engine.dialect.name == "postgresql":  # SQLite keeps decimals as floats (15 digits)
        big = services.records.create("lead", {"name": "c", "amount": "123456789012345678901.5"})["id"]
        assert services.records.get("lead", big)["amount"] == "123456789012345678901.500000"
    # narrowing the scale would round 1.234567: refused whatever the flags
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(amount={"x-field": "decimal", "x-precision": 30, "x-scale": 2})),
                   force=True)
    assert "1.234567" in refused(info)["would_lose_data"]
    assert not apply_docs(services, ("object", changed(amount={"x-field": "decimal", "x-precision": 30,
                                                               "x-scale": 6}))).changed


def test_forced_type_change_converts_and_refuses_values_that_would_not(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "a", "code": " 42"}, {"name": "b", "code": "abc"},
                                          {"name": "c", "code": "7"}, {"name": "d"}])
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(code={"x-field": "integer"})), force=True)
    message = refused(info)["values_would_not_convert"]
    assert "1 stored value(s) would not convert" in message and "'abc'" in message
    bad = next(r["id"] for r in services.records.list("lead") if r.get("code") == "abc")
    services.records.update("lead", bad, {"code": "9"})
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(code={"x-field": "integer"})))
    assert "not a safe widening" in refused(info)["narrowing_change"]
    apply_docs(services, ("object", changed(code={"x-field": "integer"})), force=True)
    assert live(services).columns["code"].shape.family == INTEGER
    assert sorted(r["code"] for r in services.records.list("lead") if r.get("code") is not None) == [7, 9, 42]
    with services.engine.connect() as conn:
        kinds = {type(v) for (v,) in conn.execute(text("SELECT code FROM obj_lead WHERE code IS NOT NULL"))}
    assert kinds == {int}
    assert not apply_docs(services, ("object", changed(code={"x-field": "integer"}))).changed


def test_redeclaring_a_removed_field_with_another_type_is_a_type_change(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    rid = services.records.create("lead", {"name": "keep", "score": 7})["id"]
    apply_docs(services, ("object", changed(score=None)), force=True)
    apply_docs(services, ("object", changed(score={"x-field": "text", "maxLength": 10})))
    assert live(services).columns["score"].shape.family == TEXT
    assert services.records.get("lead", rid)["score"] == "7"
    apply_docs(services, ("object", changed(score=None)), force=True)
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(score={"x-field": "date"})), force=True)
    assert "values_would_not_convert" in refused(info)
    assert services.records.list("lead")[0]["name"] == "keep"


def test_retargeting_a_relation_needs_every_id_and_rebuilds_the_foreign_key(services, apply_docs):
    with_account = changed(account={"x-field": "relation", "x-target": "account"})
    apply_docs(services, ("object", ACCOUNT), ("object", CUSTOMER), ("object", with_account))
    accounts = [services.records.create("account", {"name": n})["id"] for n in ("a1", "a2", "a3")]
    services.records.create("customer", {"name": "c1"})
    services.records.create("lead", {"name": "l", "account": accounts[2]})
    retargeted = changed(account={"x-field": "relation", "x-target": "customer"})
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", retargeted), force=True)
    assert "1 stored link(s)" in refused(info)["relation_ids_missing"]
    for n in ("c2", "c3"):
        services.records.create("customer", {"name": n})
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", retargeted))
    assert "relation_retarget" in refused(info)
    apply_docs(services, ("object", retargeted), force=True)
    with services.engine.connect() as conn:
        fks = inspect(conn).get_foreign_keys("obj_lead")
    targets = {fk["referred_table"] for fk in fks if fk["constrained_columns"] == ["account"]}
    assert targets == {"obj_customer"}
    assert not apply_docs(services, ("object", retargeted)).changed


def test_crashes_become_refusals(services, apply_docs):
    apply_docs(services, ("object", ACCOUNT), ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "a", "score": 1000}, {"name": "b", "score": 5}])
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(tag={"x-field": "text", "x-unique": True, "default": "x"})),
                   force=True)
    assert "unique_default_on_filled_table" in refused(info)
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(account={"x-field": "relation", "x-target": "account",
                                                         "default": 999})), force=True)
    assert "999" in refused(info)["relation_default_missing"]
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(score={"x-field": "decimal", "x-precision": 4, "x-scale": 2})),
                   force=True)
    assert "'1000'" in refused(info)["values_would_not_convert"]
    apply_docs(services, ("object", changed(score={"x-field": "decimal", "x-precision": 8, "x-scale": 2})))
    assert sorted(r["score"] for r in services.records.list("lead")) == ["1000.00", "5.00"]


def test_a_dba_index_survives_reapplying(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    with services.engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_obj_lead_dba_name ON obj_lead (name)"))
    plan = apply_docs(services, ("object", changed(extra={"x-field": "text"})))
    assert "drop_index" not in [a.op for a in plan.tables["lead"]]
    assert "ix_obj_lead_dba_name" in live(services).indexes
    # an index the engine declared and no longer does is dropped
    apply_docs(services, ("object", changed(extra={"x-field": "text", "x-unique": True})))
    plan = apply_docs(services, ("object", changed(extra={"x-field": "text"})))
    assert [a.op for a in plan.tables["lead"]] == ["drop_index"]


def test_values_are_cited_not_whole_documents(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.create("lead", {"name": "n" * 50})
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", changed(name={"x-field": "text", "maxLength": 5})))
    message = refused(info)["would_lose_data"]
    assert "'nnnnn" in message and len(message) < 400


def test_required_means_required(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "a"}, {"name": "b", "score": 3}])
    doc = changed(score={"x-field": "integer", "default": 0})
    doc["required"] = ["name", "score"]
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", doc))
    assert "force fills them with the default" in refused(info)["required_has_empty"]
    apply_docs(services, ("object", doc), force=True)
    assert sorted(r["score"] for r in services.records.list("lead")) == [0, 3]
    no_default = changed()
    no_default["required"] = ["name", "code"]
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", no_default), force=True)
    assert "no default" in refused(info)["required_has_empty"]
    if services.engine.dialect.name == "postgresql":
        # a writer that does not know the new definition cannot add a NULL
        with pytest.raises(Exception, match="ck_obj_lead_score_required"), services.engine.begin() as conn:
            conn.execute(text("INSERT INTO obj_lead (name, created_at, updated_at, version) "
                              "VALUES ('raw', now(), now(), 1)"))
    assert not apply_docs(services, ("object", doc)).changed
    # no longer required: the check goes, plan(apply(x)) stays empty
    relaxed = changed(score={"x-field": "integer", "default": 0})
    apply_docs(services, ("object", relaxed))
    assert not apply_docs(services, ("object", relaxed)).changed
    with services.engine.begin() as conn:  # NULL is allowed again (a defaulted field refuses null input itself)
        conn.execute(text("INSERT INTO obj_lead (name, created_at, updated_at, version) VALUES ('raw', "
                          + ("now(), now()" if services.engine.dialect.name == "postgresql" else "'2026-01-01', '2026-01-01'")
                          + ", 1)"))


def test_new_required_column_with_a_default_is_filled_and_checked(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "a"}, {"name": "b"}])
    doc = changed(region={"x-field": "text", "default": "east"})
    doc["required"] = ["name", "region"]
    plan = apply_docs(services, ("object", doc))
    ops = [a.op for a in plan.tables["lead"]]
    assert ops[:2] == ["add_column", "backfill"]
    assert ("require" in ops) == (services.engine.dialect.name == "postgresql")
    assert {r["region"] for r in services.records.list("lead")} == {"east"}
    assert not apply_docs(services, ("object", doc)).changed


def test_widening_on_sqlite_rewrites_the_declared_type_only(services, apply_docs):
    """A length or digits change keeps SQLite's affinity: no column copy (the column keeps its place,
    a database whose earlier widenings did no DDL is brought in line instantly), and then plans nothing."""
    apply_docs(services, ("object", changed(amount={"x-field": "decimal", "x-precision": 10, "x-scale": 2})))
    rid = services.records.create("lead", {"name": "a" * 40, "amount": "12.5", "score": 3})["id"]
    with services.engine.connect() as conn:
        order = [c["name"] for c in inspect(conn).get_columns("obj_lead")]
    wider = changed(name={"x-field": "text", "maxLength": 100},
                    amount={"x-field": "decimal", "x-precision": 20, "x-scale": 4})
    plan = services.metadata.plan([("object", "lead", wider)])
    assert sorted(a.target for a in plan.tables["lead"] if a.op == "alter_type") == ["amount", "name"]
    if services.engine.dialect.name == "sqlite":
        assert all("declared type only" in a.description for a in plan.tables["lead"])
    apply_docs(services, ("object", wider))
    with services.engine.connect() as conn:
        assert [c["name"] for c in inspect(conn).get_columns("obj_lead")] == order
    shape = live(services).columns
    assert shape["name"].shape.length == 100 and (shape["amount"].shape.precision, shape["amount"].shape.scale) == (20, 4)
    assert services.records.get("lead", rid)["amount"] == "12.5000"
    assert len(services.records.get("lead", rid)["name"]) == 40
    assert not services.metadata.plan([("object", "lead", wider)]).changed
