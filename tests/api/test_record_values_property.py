"""Every bad value is a 4xx on every path: random values for every field type, through the record
service (as the CLI, imports, workflow steps and bulk calls reach it) and through the HTTP API.

A coercer may only ever raise a validation problem; an accepted value reads back as stored.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metacrm.errors import MetaCRMError, ValidationError
from metacrm.meta.fields import FIELD_TYPES
from metacrm.meta.jsonvalue import MAX_JSON_DEPTH

TARGET = {"$id": "probe_target", "type": "object", "properties": {"name": {"x-field": "text"}}}
DECLS: dict[str, dict[str, Any]] = {
    "text": {"maxLength": 20},
    "decimal": {"x-precision": 12, "x-scale": 2, "minimum": -1000},
    "integer": {"minimum": -5, "maximum": 10**12},
    "select": {"enum": ["a", "b", "复购"]},
    "multiselect": {"items": {"enum": ["x", "y"]}},
    "relation": {"x-target": "probe_target"},
}
PROBE = {"$id": "probe", "type": "object", "properties": {
    f"f_{name}": {"x-field": name, **DECLS.get(name, {})} for name in FIELD_TYPES
    if not FIELD_TYPES[name].computed}}  # formulas and roll-ups take no input (tests/meta/test_formula_definitions.py)
FIELDS = sorted(PROBE["properties"])

EDGE_STRINGS = [
    "2016-12-31T23:59:60Z", "2016-12-31T15:59:60-08:00", "2026-01-01t10:00:00z", "2026-01-01T10:00:00.1234567891Z",
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "2026-01-01", "0000-01-01", "9999-12-31", "1e400", "-0", "NaN", "Infinity", "-Infinity", "1E+5",
    "12345678901234567890.5", "9" * 40, "0.001", "\ud800", "a\udfffb", "a\x00b", "http://[::1", "http://[zz]/",
    "https://例え.jp/路径", "(646) 555-0123", "+86 138 0013 8000", "138 0013 8000", "  ", "", "١٢٣", "１２３",
    "a@b", "王@例子.中国", "x" * 300, "复购", "a", "x",
]
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(EDGE_STRINGS)
           | st.text(st.characters(blacklist_categories=()), max_size=12))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def probe(services, apply_docs):
    apply_docs(services, ("object", TARGET), ("object", PROBE))
    target = services.records.create("probe_target", {"name": "t"})
    return services, target["id"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=JSON_VALUES)
def test_record_service_answers_every_value_with_a_record_or_a_validation_problem(probe, field, value):
    svc, _ = probe
    try:
        created = svc.records.create("probe", {field: value})
    except ValidationError as exc:
        assert exc.problems and all(p.field and p.code and p.message for p in exc.problems)
        return
    assert svc.records.get("probe", created["id"]) == created  # what was accepted reads back as stored


@pytest.mark.parametrize("value", EDGE_STRINGS)
def test_edge_strings_on_every_field(probe, value):
    svc, _ = probe
    for field in FIELDS:
        for data in ({field: value}, {field: [value]}, {field: {value: value}}):
            with contextlib.suppress(ValidationError):
                svc.records.create("probe", data)


def test_rfc3339_lower_case_and_leap_seconds_are_stored(probe):
    svc, _ = probe
    assert svc.records.create("probe", {"f_datetime": "2026-01-01t10:00:00z"})["f_datetime"] == "2026-01-01T10:00:00Z"
    # a leap second reads as the next minute's :00, as PostgreSQL reads it
    leap = svc.records.create("probe", {"f_datetime": "2016-12-31T23:59:60Z"})
    assert leap["f_datetime"] == "2017-01-01T00:00:00Z"
    with pytest.raises(ValidationError) as info:
        svc.records.create("probe", {"f_datetime": "9999-12-31T23:59:59-01:00"})
    assert [(p.field, p.code) for p in info.value.problems] == [("f_datetime", "out_of_range")]


@pytest.mark.parametrize(("value", "code"), [
    ({"k": "\ud800"}, "invalid_character"), (["a\udfffb"], "invalid_character"), ({"\ud83d": 1}, "invalid_character"),
    (nested(MAX_JSON_DEPTH + 1), "too_deep"), (nested(5000), "too_deep"), ([float("nan")], "invalid_number"),
    ([2**64], "out_of_range"), ({"d": object()}, "invalid_json")])
def test_unstorable_json_is_refused_by_the_record_service_itself(probe, value, code):
    svc, _ = probe
    with pytest.raises(ValidationError) as info:
        svc.records.create("probe", {"f_json": value})
    assert [(p.field, p.code) for p in info.value.problems] == [("f_json", code)]
    svc.records.create("probe", {"f_json": nested(MAX_JSON_DEPTH)})


@pytest.mark.parametrize("field", ["f_text", "f_textarea", "f_email", "f_phone", "f_url", "f_select"])
def test_lone_surrogates_in_text_are_refused_by_the_record_service(probe, field):
    svc, _ = probe
    with pytest.raises(ValidationError) as info:
        svc.records.create("probe", {field: "ab\udc80"})
    assert {p.field for p in info.value.problems} == {field}


def test_bulk_create_refuses_unstorable_rows_one_by_one(probe):
    svc, _ = probe
    result = svc.records.bulk_create("probe", [{"f_text": "ok"}, {"f_text": "\ud800"}, {"f_json": nested(500)}],
                                     skip_invalid=True)
    assert result.created == 1 and set(result.errors) == {1, 2}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=JSON_VALUES)
def test_http_api_never_answers_5xx(api_probe, field, value):
    response = api_probe.post("/records/probe", {field: value})
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.get_json()["code"]


@pytest.mark.parametrize("body", [
    '{"f_json": ' + "[" * 5000 + "]" * 5000 + "}", '{"f_json": ' + json.dumps(nested(MAX_JSON_DEPTH + 1)) + "}",
    '{"f_text": "\\ud800"}', '{"f_datetime": "2016-12-31T23:59:60Z"}', '{"f_datetime": "2026-01-01t10:00:00z"}'])
def test_http_api_edge_bodies(api_probe, body):
    response = api_probe.client.post("/api/v1/records/probe", data=body, content_type="application/json",
                                     headers=api_probe._headers(None))
    assert response.status_code in (201, 400, 422), response.get_data(as_text=True)
    if "23:59:60" in body or "t10" in body:
        assert response.status_code == 201


@pytest.fixture
def api_probe(admin, standard_pack, apply_docs):
    apply_docs(standard_pack, ("object", TARGET), ("object", PROBE))
    return admin


def test_errors_are_metacrm_errors_with_4xx_status(probe):
    svc, _ = probe
    with pytest.raises(MetaCRMError) as info:
        svc.records.create("probe", {"f_integer": float("inf")})
    assert 400 <= info.value.status < 500
