"""Rules past the documented limits are refused cleanly at every entry point, before any recursion;
empty lists from UIs have one meaning in SQL and in memory."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from metacrm.errors import ValidationError
from metacrm.rules import matcher, matches, rule_reads, to_sql, validate_rule
from metacrm.rules.parse import MAX_DEPTH, MAX_ITEMS

OBJ = {"$id": "thing", "type": "object", "properties": {
    "t": {"x-field": "text"},
    "n": {"x-field": "integer"},
    "m": {"x-field": "multiselect", "items": {"enum": ["x", "y"]}},
}}
CHILD = {"$id": "part", "type": "object", "properties": {"label": {"x-field": "text"},
                                                         "thing": {"x-field": "relation", "x-target": "thing"}}}
LEAF = {"field": "n", "op": "eq", "value": 1}


def nest(depth: int, shape: str) -> dict:
    rule: dict = LEAF
    for _ in range(depth):
        if shape == "not":
            rule = {"not": rule}
        elif shape == "all":
            rule = {"all": [rule]}
        else:
            rule = {"related": {"object": "part", "via": "thing"}, "where": {"not": rule}}
    return rule


@pytest.fixture
def snap(services, apply_docs):
    apply_docs(services, ("object", OBJ), ("object", CHILD))
    return services


ENTRY_POINTS = {
    "validate_rule": lambda rule, snap: _raise_problems(validate_rule(rule, "thing", snap)),
    "to_sql": lambda rule, snap: to_sql(rule, "thing", snap),
    "matches": lambda rule, snap: matches(rule, {"id": 1, "n": 1}, "thing", snap),
    "matcher": lambda rule, snap: matcher(rule, "thing", snap),
    "rule_reads": lambda rule, snap: rule_reads(rule, "thing", snap),
}


def _raise_problems(problems):
    if problems:
        raise ValidationError("invalid", problems)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("shape", ["not", "all"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 2_000, sys.getrecursionlimit() * 3])
def test_deep_rules_are_too_deep_at_every_entry_point(snap, entry, shape, depth):
    registry = snap.registry.current()
    for _ in range(2):  # the second call would meet a cache
        with pytest.raises(ValidationError) as info:
            ENTRY_POINTS[entry](nest(depth, shape), registry)
        assert [p.code for p in info.value.problems] == ["too_deep"]


def test_related_nesting_counts_too(snap):
    registry = snap.registry.current()
    assert [p.code for p in validate_rule(nest(2_000, "related"), "thing", registry)] == ["too_deep"]


def test_the_limit_itself_is_allowed(snap):
    registry = snap.registry.current()
    for shape in ("not", "all"):
        assert validate_rule(nest(MAX_DEPTH, shape), "thing", registry) == []


def test_too_large_rules(snap):
    registry = snap.registry.current()
    huge = {"any": [{"field": "n", "op": "in", "value": list(range(1000))} for _ in range(MAX_ITEMS // 1000 + 1)]}
    with pytest.raises(ValidationError) as info:
        to_sql(huge, "thing", registry)
    assert [p.code for p in info.value.problems] == ["too_large"]
    many = {"any": [LEAF] * 501}
    assert "too_large" in [p.code for p in validate_rule(many, "thing", registry)]
    long_list = {"field": "n", "op": "in", "value": list(range(1001))}
    assert [p.code for p in validate_rule(long_list, "thing", registry)] == ["invalid_value"]
    long_text = {"field": "t", "op": "contains", "value": "x" * 1001}
    assert [p.code for p in validate_rule(long_text, "thing", registry)] == ["invalid_value"]


def test_empty_lists_agree_in_sql_and_memory(snap):
    ids = snap.records.bulk_create("thing", [{"t": "a", "n": 1, "m": ["x"]}, {"t": None, "n": None, "m": None},
                                             {"t": "", "m": []}]).ids
    registry = snap.registry.current()
    table = registry.tables["thing"]
    expected = {("t", "in"): [], ("t", "not_in"): ids, ("n", "in"): [], ("n", "not_in"): ids,
                ("m", "has_any"): [], ("m", "has_all"): ids}
    with snap.engine.connect() as conn:
        records = snap.records.list("thing", conn=conn)
        for (field, op), want in expected.items():
            for rule in ({"field": field, "op": op, "value": []}, {"not": {"field": field, "op": op, "value": []}}):
                sql = sorted(conn.execute(select(table.c.id).where(to_sql(rule, "thing", registry))).scalars())
                mem = sorted(r["id"] for r in records if matches(rule, r, "thing", registry, conn))
                assert sql == mem, rule
                assert sql == (sorted(want) if "not" not in rule else sorted(set(ids) - set(want))), rule


def test_definitions_holding_deep_rules_are_refused_before_the_meta_schema(snap):
    from metacrm.meta.kinds import validate_definition

    doc = {"name": "deep", "label": {"en": "deep"}, "object": "thing", "rule": nest(5_000, "all")}
    problems = validate_definition("segment", doc, snap.registry.current().definitions)
    assert [p.code for p in problems] == ["too_deep"]
