"""The record service: validated, coerced, unique, versioned writes, each with its event."""

import pytest
from sqlalchemy import select

from metacrm.errors import Conflict, NotFound, ValidationError
from metacrm.store.events import timeline
from metacrm.store.system import record_events
from metacrm.store.users import ensure_user

ACCOUNT = {"$id": "account", "type": "object", "properties": {"name": {"x-field": "text"}}, "required": ["name"]}
LEAD = {"$id": "lead", "type": "object", "properties": {
    "name": {"x-field": "text", "maxLength": 20},
    "phone": {"x-field": "phone", "x-unique": True},
    "email": {"x-field": "email", "x-unique": True},
    "city": {"x-field": "select", "enum": ["shanghai", "beijing"]},
    "interests": {"x-field": "multiselect", "items": {"enum": ["price", "quality"]}},
    "budget": {"x-field": "decimal", "minimum": 0},
    "born": {"x-field": "date"},
    "seen": {"x-field": "datetime"},
    "score": {"x-field": "integer", "default": 10},
    "vip": {"x-field": "boolean"},
    "extra": {"x-field": "json"},
    "account": {"x-field": "relation", "x-target": "account"},
}, "required": ["name"]}


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", ACCOUNT), ("object", LEAD))
    return services


def events(svc, record_id):
    with svc.engine.connect() as conn:
        return timeline(conn, "lead", record_id)


def test_create_coerces_and_reads_back_json(svc):
    account = svc.records.create("account", {"name": "ACME"})
    r = svc.records.create("lead", {"name": "王伟", "phone": "138 1234 5678", "email": "W@Example.COM",
                                    "city": "shanghai", "interests": ["price"], "budget": "19.99",
                                    "born": "1990-02-03", "seen": "2026-01-01T08:00:00+08:00", "vip": True,
                                    "extra": {"k": [1, 2]}, "account": account["id"]})
    assert r["phone"] == "+8613812345678"
    assert r["email"] == "w@example.com"
    assert r["budget"] == "19.99"
    assert r["born"] == "1990-02-03"
    assert r["seen"] == "2026-01-01T00:00:00Z"
    assert r["score"] == 10  # default
    assert r["version"] == 1 and r["deleted_at"] is None
    assert svc.records.get("lead", r["id"]) == r


def test_every_error_is_reported_with_its_field(svc):
    with pytest.raises(ValidationError) as info:
        svc.records.create("lead", {"phone": "12", "email": "nope", "city": "paris", "budget": "-1",
                                    "born": "1990-13-01", "score": "ten", "ghost": 1, "name": "x" * 21})
    found = {(p.field, p.code) for p in info.value.problems}
    assert found >= {("phone", "invalid_phone"), ("email", "invalid_email"), ("city", "enum"),
                     ("budget", "minimum"), ("born", "format"), ("score", "type"), ("ghost", "unknown_field"),
                     ("name", "maxLength")}
    assert info.value.status == 422
    assert svc.records.count("lead") == 0


def test_missing_required_field(svc):
    with pytest.raises(ValidationError) as info:
        svc.records.create("lead", {"city": "beijing"})
    assert [(p.field, p.code) for p in info.value.problems] == [("name", "required")]


def test_unique_values_are_enforced_with_a_clear_error(svc):
    svc.records.create("lead", {"name": "a", "phone": "13812345678"})
    with pytest.raises(ValidationError) as info:
        svc.records.create("lead", {"name": "b", "phone": "+86 138-1234-5678"})
    assert info.value.problems[0].code == "unique" and info.value.problems[0].field == "phone"
    with pytest.raises(ValidationError) as info:
        svc.records.bulk_create("lead", [{"name": "c", "email": "x@y.com"}, {"name": "d", "email": "X@Y.COM"}])
    assert [(p.field, p.code) for p in info.value.problems] == [("/1/email", "duplicate_value")]


def test_unknown_references_are_refused(svc):
    with pytest.raises(ValidationError) as info:
        svc.records.create("lead", {"name": "a", "account": 999, "owner_id": 555})
    assert {(p.field, p.code) for p in info.value.problems} == {("account", "unknown_reference"),
                                                                ("owner_id", "unknown_reference")}


def test_update_is_partial_versioned_and_evented(svc):
    with svc.engine.begin() as conn:
        actor = ensure_user(conn, "zhang.wei", "张伟")
    r = svc.records.create("lead", {"name": "a", "city": "shanghai"}, actor_id=actor)
    assert r["owner_id"] == actor and r["created_by"] == actor
    u = svc.records.update("lead", r["id"], {"city": "beijing", "budget": 5}, expected_version=1, actor_id=actor)
    assert (u["city"], u["budget"], u["name"], u["version"]) == ("beijing", "5.00", "a", 2)
    same = svc.records.update("lead", r["id"], {"city": "beijing"}, expected_version=2)
    assert same["version"] == 2  # nothing changed: no new version, no event
    kinds = [e["kind"] for e in events(svc, r["id"])]
    assert kinds == ["update", "create"]
    latest = events(svc, r["id"])[0]
    assert latest["changes"] == {"before": {"city": "shanghai", "budget": None},
                                 "after": {"city": "beijing", "budget": "5.00"}}
    assert latest["actor_id"] == actor


def test_stale_version_is_a_conflict_not_an_overwrite(svc):
    r = svc.records.create("lead", {"name": "a"})
    svc.records.update("lead", r["id"], {"name": "b"}, expected_version=1)
    with pytest.raises(Conflict) as info:
        svc.records.update("lead", r["id"], {"name": "c"}, expected_version=1)
    assert info.value.problems[0].code == "stale_version"
    assert svc.records.get("lead", r["id"])["name"] == "b"


def test_update_refuses_nulling_required_fields_and_unknown_fields(svc):
    r = svc.records.create("lead", {"name": "a"})
    with pytest.raises(ValidationError) as info:
        svc.records.update("lead", r["id"], {"name": None, "nope": 1})
    assert {p.field for p in info.value.problems} == {"name", "nope"}


def test_soft_delete_and_restore(svc):
    r = svc.records.create("lead", {"name": "a", "phone": "13812345678"})
    svc.records.delete("lead", r["id"], expected_version=1)
    with pytest.raises(NotFound):
        svc.records.get("lead", r["id"])
    assert svc.records.get("lead", r["id"], include_deleted=True)["deleted_at"]
    assert svc.records.count("lead") == 0
    # a deleted record frees its unique value; restoring it then clashes
    other = svc.records.create("lead", {"name": "b", "phone": "13812345678"})
    with pytest.raises(Conflict):
        svc.records.restore("lead", r["id"])
    svc.records.delete("lead", other["id"])
    restored = svc.records.restore("lead", r["id"])
    assert restored["deleted_at"] is None and restored["version"] == 3
    assert [e["kind"] for e in events(svc, r["id"])] == ["restore", "delete", "create"]


def test_bulk_create_all_or_nothing_and_skip_invalid(svc):
    rows = [{"name": "ok1"}, {"name": None}, {"name": "ok2", "city": "mars"}, {"name": "ok3"}]
    with pytest.raises(ValidationError) as info:
        svc.records.bulk_create("lead", rows)
    assert {p.field.split("/")[1] for p in info.value.problems} == {"1", "2"}
    assert svc.records.count("lead") == 0
    result = svc.records.bulk_create("lead", rows, skip_invalid=True)
    assert result.created == 2 and sorted(result.errors) == [1, 2]
    assert result.ids[1] is None and result.ids[0] < result.ids[3]
    assert [svc.records.get("lead", i)["name"] for i in (result.ids[0], result.ids[3])] == ["ok1", "ok3"]


def test_large_bulk_create_assigns_ids_in_order_and_one_event_each(svc):
    rows = [{"name": f"n{i}", "email": f"u{i}@example.com", "interests": ["price"], "budget": i}
            for i in range(300)]
    result = svc.records.bulk_create("lead", rows)
    assert len(set(result.ids)) == 300 and result.ids == sorted(result.ids)
    assert svc.records.get("lead", result.ids[123])["email"] == "u123@example.com"
    with svc.engine.connect() as conn:
        ids = conn.execute(select(record_events.c.record_id).where(record_events.c.kind == "create")).scalars()
        assert sorted(ids) == result.ids
    more = svc.records.bulk_create("lead", [{"name": "later"}])
    assert more.ids[0] > result.ids[-1]


def test_a_failing_listener_rolls_back_record_and_event(svc):
    def boom(conn, snapshot, evts):
        raise RuntimeError("engine failed")

    svc.records.listeners.append(boom)
    with pytest.raises(RuntimeError):
        svc.records.create("lead", {"name": "never"})
    svc.records.listeners.remove(boom)
    assert svc.records.count("lead") == 0
    with svc.engine.connect() as conn:
        assert conn.execute(select(record_events)).first() is None


def test_listeners_see_events_inside_the_transaction(svc):
    seen = []
    svc.records.listeners.append(lambda conn, snap, evts: seen.extend((e.kind, e.record_id) for e in evts))
    r = svc.records.create("lead", {"name": "a"})
    assert seen == [("create", r["id"])]


def test_unknown_object_is_not_found(svc):
    with pytest.raises(NotFound):
        svc.records.create("ghost", {})


def test_list_is_newest_first_and_pages_by_id(svc):
    ids = svc.records.bulk_create("lead", [{"name": f"n{i}"} for i in range(5)]).ids
    first = svc.records.list("lead", limit=2)
    assert [r["id"] for r in first] == [ids[4], ids[3]]
    second = svc.records.list("lead", limit=2, after_id=first[-1]["id"])
    assert [r["id"] for r in second] == [ids[2], ids[1]]


def test_ids_given_as_whole_floats_are_integers_and_out_of_range_ids_refused(svc):
    account = svc.records.create("account", {"name": "ACME"})
    assert svc.records.create("lead", {"name": "a", "account": float(account["id"])})["account"] == account["id"]
    with pytest.raises(ValidationError) as info:
        svc.records.create("lead", {"name": "b", "account": 2**64, "owner_id": 2**70})
    assert {(p.field, p.code) for p in info.value.problems} >= {("account", "invalid_reference"),
                                                                ("owner_id", "invalid_reference")}


def test_nul_characters_inside_json_fields_are_refused(svc):
    with pytest.raises(ValidationError) as info:
        svc.records.create("lead", {"name": "a", "extra": {"k": ["ok", "bad\x00"]}})
    assert [(p.field, p.code) for p in info.value.problems] == [("extra", "invalid_character")]
