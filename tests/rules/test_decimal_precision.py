"""Decimals at every precision: stored exactly or refused (never rounded), and SQL and memory agree
on every comparison, whatever the digits of the rule's value; multipleOf in exact arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from metacrm.errors import DefinitionError, ValidationError
from metacrm.rules import matches, to_sql

OBJ = {"$id": "money", "type": "object", "properties": {
    "label": {"x-field": "text"},
    "amt": {"x-field": "decimal"},  # NUMERIC(18, 2)
    "fine": {"x-field": "decimal", "x-precision": 30, "x-scale": 6},
    "step": {"x-field": "decimal", "x-scale": 2, "multipleOf": 0.01},
    "half": {"x-field": "decimal", "x-scale": 1, "multipleOf": 0.5},
    "even": {"x-field": "integer", "multipleOf": 2},
}}
CHILD = {"$id": "money_part", "type": "object", "properties": {
    "label": {"x-field": "text"}, "money": {"x-field": "relation", "x-target": "money"}, "amt": {"x-field": "decimal"}}}


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", OBJ), ("object", CHILD))
    return services


def test_more_than_15_digits_are_stored_exactly_or_refused_never_rounded(svc):
    value = "12345678901234.56"
    if svc.engine.dialect.name == "sqlite":
        with pytest.raises(ValidationError) as info:
            svc.records.create("money", {"amt": value})
        assert [(p.field, p.code) for p in info.value.problems] == [("amt", "out_of_range")]
        assert "15 significant digits" in info.value.problems[0].message
    else:
        assert svc.records.create("money", {"amt": value})["amt"] == value
    widest = "999999999999999" if svc.engine.dialect.name == "sqlite" else "9999999999999999.99"
    record = svc.records.create("money", {"amt": widest})
    assert Decimal(svc.records.get("money", record["id"])["amt"]) == Decimal(widest)


def test_multiple_of_is_exact(svc):
    assert svc.records.create("money", {"step": "19.99", "half": 2.5, "even": 4})["step"] == "19.99"
    assert svc.records.create("money", {"step": 0.07})["step"] == "0.07"  # 0.07 % 0.01 != 0 in binary floats
    for data, field in (({"half": "2.4"}, "half"), ({"even": 3}, "even")):
        with pytest.raises(ValidationError) as info:
            svc.records.create("money", data)
        assert [(p.field, p.code) for p in info.value.problems] == [(field, "multipleOf")]


def test_multiple_of_needs_a_positive_number_and_a_number_field(svc, apply_docs):
    for decl in ({"x-field": "decimal", "multipleOf": 0}, {"x-field": "text", "multipleOf": 2}):
        with pytest.raises(DefinitionError):
            apply_docs(svc, ("object", {"$id": "bad_step", "type": "object", "properties": {"x": decl}}))


digits = st.integers(min_value=1, max_value=17)
rule_values = st.builds(lambda sign, whole, frac: Decimal(f"{sign}{whole}.{frac}"), st.sampled_from(["", "-"]),
                        st.integers(0, 10**16), st.integers(0, 10**12).map(lambda f: str(f).rjust(12, "0")))


def _stored_values(dialect: str) -> st.SearchStrategy[Decimal]:
    top = 10**13 if dialect == "sqlite" else 10**16  # 15 (SQLite) or 18 significant digits with scale 2
    cents = st.integers(-top + 1, top - 1) | st.integers(top // 100, top - 1)  # many near the widest
    return cents.map(lambda c: Decimal(c).scaleb(-2))


def test_sql_and_memory_agree_at_every_precision(svc):
    dialect = svc.engine.dialect.name
    snap = svc.registry.current()
    table, parts = snap.tables["money"], snap.tables["money_part"]

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(stored=st.lists(_stored_values(dialect), min_size=1, max_size=6),
           near=st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 3), st.integers(3, 7)), min_size=1, max_size=4),
           free=st.lists(rule_values, max_size=3))
    @example(stored=[Decimal("9999999999999.99")], near=[(0, 1, 3), (0, 1, 4)], free=[])
    def check(stored, near, free):
        with svc.engine.begin() as conn:
            conn.execute(delete(parts))
            conn.execute(delete(table))
        ids = svc.records.bulk_create("money", [{"amt": format(v, "f")} for v in stored]).ids
        svc.records.bulk_create("money_part", [{"money": ids[0], "amt": format(v, "f")} for v in stored])
        # rule values right next to stored ones: one unit at the 2nd to 7th decimal above or below
        probes = [stored[i % len(stored)] + Decimal(d).scaleb(-p) for i, d, p in near] + list(free) + stored[:2]
        ops = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in")
        with svc.engine.connect() as conn:
            records = svc.records.list("money", conn=conn)
            for value in probes:
                for op in ops[len(probes) % 2::2]:  # each op half of the time
                    text = format(value.normalize(), "f")
                    raw = [text, "0.001"] if op in ("in", "not_in") else text
                    for rule in ({"field": "amt", "op": op, "value": raw},
                                 {"related": {"object": "money_part", "via": "money"}, "agg": "sum", "field": "amt",
                                  "op": op, "value": raw}):
                        sql = set(conn.execute(select(table.c.id).where(to_sql(rule, "money", snap))).scalars())
                        mem = {r["id"] for r in records if matches(rule, r, "money", snap, conn)}
                        assert sql == mem, (rule, stored)

    check()
