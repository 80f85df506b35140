"""The demo data generator: deterministic, and every row valid for the standard pack."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import phonenumbers
import pytest

from metacrm import demo
from metacrm.meta.fields import CoerceContext
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.objects import ObjectDef
from metacrm.meta.packs import load_pack, read_pack

PACK = Path(__file__).resolve().parents[1] / "metadata"
TODAY = date(2025, 6, 1)
COUNT = 200
USERS = [11, 12, 13]


@pytest.fixture(scope="module")
def objects() -> dict[str, ObjectDef]:
    files, problems = read_pack([PACK])
    assert not problems
    return {f.name: ObjectDef.from_doc(f.doc) for f in files if f.kind == "object"}


def generate_demo(seed: int) -> tuple[dict[str, list[dict]], dict[str, list[int]]]:
    """Rows of every object with fake ids (1000 * position + row number), sharing one `taken` set."""
    ids: dict[str, list[int]] = {}
    rows: dict[str, list[dict]] = {}
    taken: set[str] = set()
    for position, (name, _) in enumerate(demo.DEMO_PLAN, start=1):
        rows[name] = demo.generate_rows(name, COUNT, ids, USERS, random.Random(f"{seed}:{name}"),
                                        today=TODAY, taken=taken)
        ids[name] = [position * 1000 + i for i in range(COUNT)]
    return rows, ids


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, list[dict]], dict[str, list[int]]]:
    return generate_demo(7)


def test_pack_loads_and_covers_demo_objects(objects):
    load_pack([PACK], DefinitionSet())
    assert [name for name, _ in demo.DEMO_PLAN] == ["channel", "account", "customer", "lead", "opportunity",
                                                    "activity", "member", "sales_order"]
    assert set(objects) == {name for name, _ in demo.DEMO_PLAN}


def test_same_seed_same_rows(generated):
    again, _ = generate_demo(7)
    assert again == generated[0]
    other, _ = generate_demo(8)
    assert other["customer"] != generated[0]["customer"]


def test_rows_validate_and_coerce(objects, generated):
    rows, _ = generated
    for name, object_rows in rows.items():
        obj = objects[name]
        validator = obj.validators[0]
        assert len(object_rows) == COUNT
        for row in object_rows:
            assert list(validator.iter_errors(row)) == [], (name, row)
            assert row["owner_id"] in USERS
            for field_name, value in row.items():
                if field_name == "owner_id":
                    continue
                field = obj.fields[field_name]
                if field.type.coerce is not None:
                    field.type.coerce(value, field.schema, CoerceContext())  # raises on a bad value


def test_phones_valid_and_unique_across_demo(objects, generated):
    rows, _ = generated
    seen: set[str] = set()
    for name, object_rows in rows.items():
        phone_fields = [f.name for f in objects[name].fields.values() if f.type.name == "phone"]
        for row in object_rows:
            for field_name in phone_fields:
                if field_name not in row:
                    continue
                number = phonenumbers.parse(row[field_name], "CN")
                assert phonenumbers.is_valid_number(number), row[field_name]
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                assert e164 not in seen, e164
                seen.add(e164)
    assert len(seen) > COUNT * 2


def test_emails_unique(generated):
    rows, _ = generated
    emails = [row["email"].lower() for object_rows in rows.values() for row in object_rows if "email" in row]
    assert len(emails) > COUNT
    assert len(emails) == len(set(emails))


def test_relations_reference_given_ids(objects, generated):
    rows, ids = generated
    linked = 0
    for name, object_rows in rows.items():
        relations = {f.name: f.target for f in objects[name].fields.values() if f.type.is_relation}
        for row in object_rows:
            for field_name, target in relations.items():
                if field_name in row:
                    assert row[field_name] in ids[target], (name, field_name, row[field_name])
                    linked += 1
    assert linked > COUNT * 3


def test_relations_left_out_without_targets():
    rows = demo.generate_rows("activity", 50, {}, [], random.Random(1), today=TODAY)
    for row in rows:
        assert not {"lead", "customer", "account", "opportunity", "owner_id"} & set(row)


def test_load_demo_inserts_in_plan_order_in_chunks(monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_SIZE", 40)
    calls: list[tuple[str, int]] = []
    next_id = iter(range(1, 1_000_000))

    def create_many(name: str, rows: list[dict]) -> list[int]:
        calls.append((name, len(rows)))
        return [next(next_id) for _ in rows]

    counts = demo.load_demo(create_many, USERS, seed=3, scale=0.05, today=TODAY)
    assert counts == dict(demo.plan_counts(0.05))
    assert [name for name, _ in calls] == sorted((n for n, _ in calls),
                                                 key=[n for n, _ in demo.DEMO_PLAN].index)
    assert all(size <= 40 for _, size in calls)
    assert sum(size for _, size in calls) == sum(counts.values())
