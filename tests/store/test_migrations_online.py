"""Migrations while the application runs: writers never fail nor add NULLs, a long reader never
queues everyone behind the migration (PostgreSQL lock_timeout with retries)."""

import copy
import json
import threading
import time

import pytest
from sqlalchemy import text

from metacrm.errors import DestructiveChange, ServiceUnavailable
from metacrm.meta.objects import ObjectDef
from metacrm.store import ddl, online
from metacrm.store.columns import live_table
from metacrm.store.tables import build_tables

LEAD = {"$id": "lead", "type": "object",
        "properties": {"name": {"x-field": "text", "maxLength": 50}, "score": {"x-field": "integer"}},
        "required": ["name"]}


def with_fields(required=(), **props):
    doc = copy.deepcopy(LEAD)
    doc["properties"].update(props)
    doc["required"] = ["name", *required]
    return doc


def test_concurrent_writers_never_fail_nor_leave_nulls_in_a_new_required_field(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": f"seed{i}", "score": i} for i in range(200)])
    stop = threading.Event()
    errors: list[BaseException] = []
    waits: list[float] = []

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                services.records.create("lead", {"name": f"w{n}-{i}", "score": i})
            except BaseException as exc:
                errors.append(exc)
                return
            waits.append(time.monotonic() - started)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        apply_docs(services, ("object", with_fields(["region"], region={"x-field": "text", "default": "east"})))
        time.sleep(0.2)
        apply_docs(services, ("object", with_fields(["region"], region={"x-field": "text", "default": "east"},
                                                    name={"x-field": "text", "maxLength": 80, "x-index": True})))
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    assert len(waits) > 10
    assert max(waits) < 10
    with services.engine.connect() as conn:
        nulls = conn.execute(text("SELECT count(*) FROM obj_lead WHERE region IS NULL")).scalar_one()
        total = conn.execute(text("SELECT count(*) FROM obj_lead")).scalar_one()
    assert nulls == 0
    assert total == 200 + len(waits)


def test_a_long_reader_does_not_queue_everyone_behind_a_migration(services, apply_docs, monkeypatch):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite readers never wait for a writer (WAL)")
    apply_docs(services, ("object", LEAD))
    services.records.create("lead", {"name": "a"})
    monkeypatch.setattr(ddl, "LOCK_TIMEOUT_MS", 200)
    monkeypatch.setattr(ddl, "LOCK_RETRIES", 3)
    holder = services.engine.connect()
    holder.begin()
    holder.execute(text("SELECT count(*) FROM obj_lead")).scalar_one()  # a long read keeps its lock
    outcome: list[BaseException | None] = []

    def migrate() -> None:
        try:
            apply_docs(services, ("object", with_fields(extra={"x-field": "text"})))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=migrate)
    thread.start()
    read_times = []
    while thread.is_alive():
        t0 = time.monotonic()
        with services.engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM obj_lead")).scalar_one()
        read_times.append(time.monotonic() - t0)
        time.sleep(0.05)
    thread.join()
    holder.rollback()
    holder.close()
    assert isinstance(outcome[0], ServiceUnavailable), outcome
    assert time.monotonic() - started < 5
    assert max(read_times) < 1.0
    with services.engine.connect() as conn:
        assert "extra" not in live_table(conn, "obj_lead").columns
    apply_docs(services, ("object", with_fields(extra={"x-field": "text"})))  # once the reader is gone
    assert services.records.create("lead", {"name": "b", "extra": "x"})["extra"] == "x"


def _index_state(services, name):
    with services.engine.connect() as conn:
        return conn.execute(text("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                 "WHERE c.relname = :n AND pg_table_is_visible(c.oid)"), {"n": name}).scalar()


def test_postgresql_builds_new_indexes_concurrently_after_the_commit(services, apply_docs):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no concurrent index build (and no concurrent writers to spare)")
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": f"n{i}", "score": i % 7} for i in range(500)])
    indexed = with_fields(score={"x-field": "integer", "x-index": True})
    plan = services.metadata.plan([("object", "lead", indexed)])
    (action,) = [a for a in plan.tables["lead"] if a.op == "add_index"]
    assert action.value == online.CONCURRENTLY and "CONCURRENTLY" in action.description
    applied = apply_docs(services, ("object", indexed))
    assert not applied.warnings
    # CONCURRENTLY is refused inside a transaction block: the index exists, so it was built outside one
    assert _index_state(services, action.target) is True
    assert not services.metadata.plan([("object", "lead", indexed)]).changed


def test_a_failed_concurrent_build_drops_its_invalid_index_and_is_reported(services, apply_docs):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "same"}, {"name": "other"}])
    unique = ObjectDef.from_doc(with_fields(name={"x-field": "text", "maxLength": 50, "x-unique": True}))
    table = build_tables([unique])["lead"]
    (index,) = [ix for ix in table.indexes if ix.unique]
    attempts = []

    def duplicate_meanwhile(name, attempt):  # a writer adds a duplicate while the build runs
        attempts.append(attempt)
        with services.engine.begin() as conn:
            conn.execute(text("UPDATE obj_lead SET name = 'same' WHERE name = 'other'"))

    problems = online.build_concurrently(services.engine, table, [index.name], duplicate_meanwhile)
    assert attempts == [0, 1]
    assert [p.code for p in problems] == ["index_not_built"] and "same" in problems[0].message
    assert _index_state(services, index.name) is None  # no invalid index left behind
    with services.engine.begin() as conn:
        conn.execute(text("UPDATE obj_lead SET name = 'other' WHERE id = (SELECT max(id) FROM obj_lead)"))
    assert online.build_concurrently(services.engine, table, [index.name]) == []
    assert _index_state(services, index.name) is True


def _validated(services, check):
    with services.engine.connect() as conn:
        return conn.execute(text("SELECT convalidated FROM pg_constraint WHERE conname = :c"), {"c": check}).scalar()


def test_a_required_check_is_validated_after_the_commit_and_stragglers_are_filled(services, apply_docs):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (SQLite has no NOT NULL check to validate)")
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": "a"}, {"name": "b", "score": 3}])
    doc = with_fields(["score"], score={"x-field": "integer", "default": 0})
    plan = apply_docs(services, ("object", doc), force=True)
    (require,) = [a for a in plan.tables["lead"] if a.op == "require"]
    assert require.value == ("ck_obj_lead_score_required", 0, False) and "after the commit" in require.description
    # the empty value is filled after the commit, in batches, not by one UPDATE under the apply's locks
    assert [a.op for a in plan.tables["lead"]] == ["backfill_batched", "require"]
    assert sorted(r["score"] for r in services.records.list("lead")) == [0, 3]
    assert not plan.warnings and _validated(services, "ck_obj_lead_score_required") is True
    # a writer still holding the previous definition left an empty value before the NOT VALID check
    # existed: the fill after the commit gives it the default, then the check validates
    with services.engine.begin() as conn:
        conn.execute(text("ALTER TABLE obj_lead DROP CONSTRAINT ck_obj_lead_score_required"))
        conn.execute(text("INSERT INTO obj_lead (name, created_at, updated_at, version) VALUES ('late', now(), now(), 1)"))
        conn.execute(text("ALTER TABLE obj_lead ADD CONSTRAINT ck_obj_lead_score_required "
                          "CHECK (deleted_at IS NOT NULL OR score IS NOT NULL) NOT VALID"))
    table = build_tables([ObjectDef.from_doc(doc)])["lead"]
    problems = online.validate_check(services.engine, table, "score", "ck_obj_lead_score_required", None)
    assert [p.code for p in problems] == ["check_not_validated"]  # no default to give: reported, still enforced
    assert online.validate_check(services.engine, table, "score", "ck_obj_lead_score_required", 0) == []
    assert _validated(services, "ck_obj_lead_score_required") is True
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT score FROM obj_lead WHERE name = 'late'")).scalar_one() == 0


def test_a_new_multiselect_with_a_default_is_added_without_a_rewrite(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": f"n{i}"} for i in range(5)])
    doc = with_fields(hobbies={"x-field": "multiselect", "items": {"enum": ["x", "y"]}, "default": ["x"]})
    apply_docs(services, ("object", doc))
    assert {tuple(r["hobbies"]) for r in services.records.list("lead")} == {("x",)}
    if services.engine.dialect.name == "postgresql":
        with services.engine.connect() as conn:  # ADD COLUMN ... DEFAULT '["x"]'::jsonb: no table rewrite
            missing = conn.execute(text("SELECT atthasmissing FROM pg_attribute WHERE attrelid = 'obj_lead'::regclass "
                                        "AND attname = 'hobbies'")).scalar_one()
        assert missing is True
    assert not apply_docs(services, ("object", doc)).changed


def test_fill_in_batches_commits_each_batch(services, apply_docs):
    apply_docs(services, ("object", LEAD))
    services.records.bulk_create("lead", [{"name": f"n{i}"} for i in range(7)])
    table = build_tables([ObjectDef.from_doc(LEAD)])["lead"]
    seen = []
    assert online.fill_in_batches(services.engine, table, "score", 5, batch=3, progress=seen.append) == 7
    assert seen == [3, 6, 7]
    assert {r["score"] for r in services.records.list("lead")} == {5}
    with services.engine.connect() as conn:  # the audit trail: one event per filled record
        events = conn.execute(text("SELECT changes, context FROM sys_record_event WHERE kind = 'migration'")).all()
    assert len(events) == 7
    changes, context = (json.loads(v) if isinstance(v, str) else v for v in events[0])
    assert changes == {"before": {"score": None}, "after": {"score": 5}} and context["migration"] == "backfill"



def test_a_check_left_unvalidated_is_planned_again(services, apply_docs):
    if services.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    doc = with_fields(["score"], score={"x-field": "integer", "default": 0})
    apply_docs(services, ("object", doc))
    with services.engine.begin() as conn:  # an apply that died between its commit and the validation
        conn.execute(text("ALTER TABLE obj_lead DROP CONSTRAINT ck_obj_lead_score_required"))
        conn.execute(text("INSERT INTO obj_lead (name, created_at, updated_at, version) VALUES ('x', now(), now(), 1)"))
        conn.execute(text("ALTER TABLE obj_lead ADD CONSTRAINT ck_obj_lead_score_required "
                          "CHECK (deleted_at IS NOT NULL OR score IS NOT NULL) NOT VALID"))
    with pytest.raises(DestructiveChange):  # one record lacks the value: force fills it with the default
        apply_docs(services, ("object", doc))
    plan = apply_docs(services, ("object", doc), force=True)
    assert [(a.op, a.value[2] if a.op == "require" else a.value) for a in plan.tables["lead"]] == [
        ("backfill_batched", 0), ("require", True)]
    assert _validated(services, "ck_obj_lead_score_required") is True
    assert not apply_docs(services, ("object", doc)).changed
