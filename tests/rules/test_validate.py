"""Rule validation against an object: every problem with its JSON pointer and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from metacrm.errors import ValidationError
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.rules import parse_rule, rule_reads, validate_rule

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def defs() -> DefinitionSet:
    out = DefinitionSet()
    for f in load_pack([ROOT / "metadata"], DefinitionSet()):
        out.put(f.kind, f.name, f.doc)
    return out


def codes(rule, defs, obj="lead"):
    return [(p.field, p.code) for p in validate_rule(rule, obj, defs)]


def test_valid_rules_have_no_problems(defs):
    good = [
        {"all": [{"field": "city", "op": "in", "value": ["shanghai", "beijing"]},
                 {"field": "score", "op": "gt", "value": 70}]},
        {"any": [{"field": "budget", "op": "between", "value": ["10.5", 200]},
                 {"not": {"field": "company", "op": "is_empty"}}]},
        {"field": "created_at", "op": "within_last", "value": {"amount": 30, "unit": "day"}},
        {"field": "captured_at", "op": "before", "value": "2026-01-01"},
        {"field": "next_follow_up", "op": "on_weekday", "value": [1, 7]},
        {"field": "interests", "op": "has_any", "value": ["food"]},
        {"field": "owner_id", "op": "eq", "value": 3},
        {"related": {"object": "activity", "via": "lead"}, "agg": "exists",
         "where": {"field": "type", "op": "eq", "value": "call"}},
        {"related": {"object": "activity", "via": "lead"}, "agg": "max", "field": "due_at",
         "op": "within_last", "value": {"amount": 2, "unit": "month"}},
        {"related": {"object": "activity", "via": "lead"}, "agg": "count", "op": "gte", "value": 2},
        {"field": "phone", "op": "eq", "value": "138 0013 8000"},
    ]
    for rule in good:
        assert validate_rule(rule, "lead", defs) == [], rule


def test_problems_name_pointer_and_reason(defs):
    rule = {"all": [
        {"field": "nope", "op": "eq", "value": 1},
        {"field": "score", "op": "contains", "value": "x"},
        {"field": "city", "op": "eq", "value": "mars"},
        {"field": "score", "op": "gt", "value": "70"},
        {"field": "score", "op": "is_empty", "value": 1},
        {"field": "score", "op": "between", "value": [9, 1]},
        {"field": "captured_at", "op": "gt", "value": "2026-01-01T10:00:00"},
        {"related": {"object": "activity", "via": "customer"}},
        {"related": {"object": "activity", "via": "lead"}, "agg": "sum", "field": "subject", "op": "gt", "value": 1},
        {"field": "name", "op": "eq", "value": ""},
        {"bogus": 1},
    ]}
    assert codes(rule, defs) == [
        ("/all/0/field", "unknown_field"),
        ("/all/1/op", "invalid_operator"),
        ("/all/2/value", "unknown_option"),
        ("/all/3/value", "invalid_value"),
        ("/all/4/value", "unexpected_value"),
        ("/all/5/value", "invalid_value"),
        ("/all/6/value", "invalid_value"),
        ("/all/7/related/via", "not_a_relation"),
        ("/all/8/field", "invalid_aggregate"),
        ("/all/9/value", "invalid_value"),
        ("/all/10/bogus", "unknown_key"),
    ]


def test_shape_errors(defs):
    assert codes({"all": []}, defs) == [("/all", "invalid_rule")]
    assert codes([], defs) == [("/", "invalid_rule")]
    assert codes({"field": "name", "op": "eq", "value": "x", "all": []}, defs) == [("/", "invalid_rule")]
    assert codes({"field": "name", "value": "x"}, defs) == [("/op", "missing_operator")]
    assert codes({"field": "name", "op": "eq"}, defs) == [("/value", "missing_value")]
    assert codes({"field": "name", "op": "eq", "value": "x"}, defs, obj="martian") == [("/", "unknown_object")]


def test_parse_raises_validation_error(defs):
    with pytest.raises(ValidationError) as info:
        parse_rule({"field": "nope", "op": "eq", "value": 1}, "lead", defs)
    assert info.value.status == 422
    assert info.value.problems[0].field == "/field"


def test_reads(defs):
    rule = {"all": [{"field": "city", "op": "eq", "value": "shanghai"},
                    {"field": "created_at", "op": "this_month"},
                    {"related": {"object": "activity", "via": "lead"},
                     "where": {"field": "type", "op": "eq", "value": "call"}}]}
    r = rule_reads(rule, "lead", defs)
    assert r.fields == {"city", "created_at"}
    assert r.clock
    assert [(x.object, x.via, x.fields) for x in r.related] == [("activity", "lead", {"lead", "deleted_at", "type"})]


SAMPLES = {
    "text": "abc", "textarea": "abc", "email": "a@example.com", "phone": "13800138000", "url": "https://x.org",
    "select": "a", "integer": 3, "decimal": "2.50", "boolean": True, "date": "2026-01-02",
    "datetime": "2026-01-02T03:04:05Z", "relation": 1, "region": "广东",
}


def _value(type_name, op):
    scalar = SAMPLES.get(type_name)
    return {"in": [scalar], "not_in": [scalar], "between": [scalar, scalar], "has_any": ["a"], "has_all": ["a"],
            "within_last": {"amount": 3, "unit": "week"}, "within_next": {"amount": 1, "unit": "month"},
            "on_weekday": [1, 7], "contains": "b", "starts_with": "a",
            "before": scalar, "after": scalar}.get(op, scalar)


def test_every_field_type_operator_is_supported():
    """Each operator FIELD_TYPES lists for a type parses, compiles to SQL and evaluates in memory."""
    from sqlalchemy.dialects import postgresql, sqlite

    from metacrm.meta.fields import FIELD_TYPES
    from metacrm.meta.objects import ObjectDef
    from metacrm.rules import matches, to_sql
    from metacrm.rules.parse import NO_VALUE_OPS
    from metacrm.store.tables import build_tables

    props = {}
    for name in FIELD_TYPES:
        decl = {"x-field": name}
        if name == "select":
            decl["enum"] = ["a", "b"]
        elif name == "multiselect":
            decl["items"] = {"type": "string", "enum": ["a", "b"]}
        elif name == "relation":
            decl["x-target"] = "every"
        elif name == "json":
            decl["type"] = "object"
        props[f"f_{name}"] = decl
    obj = ObjectDef.from_doc({"$id": "every", "type": "object", "properties": props})

    class Snap:
        objects = {"every": obj}
        definitions = DefinitionSet({"object": {"every": obj.doc}})
        tables = build_tables([obj])

    for name, ftype in FIELD_TYPES.items():
        for op in ftype.operators:
            rule = {"field": f"f_{name}", "op": op}
            if op not in NO_VALUE_OPS:
                rule["value"] = _value(name, op)
            assert validate_rule(rule, "every", Snap) == [], rule
            expr = to_sql(rule, "every", Snap, tz="Asia/Shanghai")
            for dialect in (sqlite.dialect(), postgresql.dialect()):
                str(expr.compile(dialect=dialect))
            empty = op == "is_empty"
            assert matches(rule, {"id": 1}, "every", Snap) is empty, rule  # a missing value never matches
            assert matches({"not": rule}, {"id": 1}, "every", Snap) is not empty, rule
