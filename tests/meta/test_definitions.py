"""Object and form definitions: meta-schema shape and meaning, each problem with its JSON pointer."""

import json

import pytest
from jsonschema import Draft202012Validator

from metacrm.meta.fields import FIELD_TYPES
from metacrm.meta.kinds import KINDS, DefinitionSet, apply_order, meta_schema, validate_definition
from metacrm.meta.objects import ObjectDef
from metacrm.meta.plan import json_diff

LEAD = {
    "$id": "lead", "type": "object", "x-label": {"en": "Lead", "zh": "线索"},
    "properties": {
        "name": {"x-field": "text", "maxLength": 120, "x-label": {"zh": "姓名"}},
        "phone": {"x-field": "phone", "x-unique": True},
        "city": {"x-field": "select", "enum": ["上海", "北京"]},
        "owner": {"x-field": "relation", "x-target": "user"},
        "score": {"x-field": "integer", "minimum": 0, "maximum": 100, "default": 0},
    },
    "required": ["name"],
}


def problems(doc, kind="object", defs=None):
    return {(p.field, p.code) for p in validate_definition(kind, doc, defs or DefinitionSet())}


def test_the_architecture_example_is_valid():
    assert problems(LEAD) == set()


@pytest.mark.parametrize("name", sorted(KINDS))
def test_meta_schemas_are_valid_json_schema_2020_12(name):
    schema = meta_schema(name)
    Draft202012Validator.check_schema(schema)
    assert "common.json" not in json.dumps(schema)  # bundled: stands alone for editors


def test_field_type_enum_comes_from_the_registry():
    assert meta_schema("object")["$defs"]["fieldType"]["enum"] == sorted(FIELD_TYPES)


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["properties"]["name"].update({"x-field": "texty"}), ("/properties/name/x-field", "enum")),
    (lambda d: d["properties"]["name"].update({"x-colour": "red"}), ("/properties/name", "additionalProperties")),
    (lambda d: d["properties"]["city"].pop("enum"), ("/properties/city", "required")),
    (lambda d: d["properties"]["owner"].pop("x-target"), ("/properties/owner", "required")),
    (lambda d: d["properties"]["owner"].update({"x-target": "nothing"}), ("/properties/owner/x-target", "unknown_object")),
    (lambda d: d.update({"required": ["name", "ghost"]}), ("/required/1", "unknown_field")),
    (lambda d: d["properties"]["score"].update({"default": 101}), ("/properties/score/default", "maximum")),
    (lambda d: d["properties"]["score"].update({"type": "string"}), ("/properties/score/type", "type_mismatch")),
    (lambda d: d["properties"]["name"].update({"pattern": "(unclosed"}), ("/properties/name", "invalid_schema")),
    (lambda d: d["properties"]["phone"].update({"default": "123"}), ("/properties/phone/default", "invalid_phone")),
    (lambda d: d.update({"x-title-field": "nope"}), ("/x-title-field", "unknown_field")),
    (lambda d: d["properties"].update({"order": {"x-field": "text"}}), ("/properties/order", "invalid_name")),
    (lambda d: d["properties"].update({"version": {"x-field": "text"}}), ("/properties/version", "invalid_name")),
    (lambda d: d["properties"]["score"].update({"enum": ["1"]}), ("/properties/score/enum", "keyword_not_allowed")),
])
def test_each_problem_names_its_pointer(mutate, expected):
    doc = json.loads(json.dumps(LEAD))
    mutate(doc)
    assert expected in problems(doc)


def test_self_relation_is_valid_when_the_object_itself_is_in_context():
    doc = json.loads(json.dumps(LEAD))
    doc["properties"]["referrer"] = {"x-field": "relation", "x-target": "lead"}
    assert problems(doc, defs=DefinitionSet({"object": {"lead": doc}})) == set()


def test_record_schema_allows_null_only_for_optional_fields():
    obj = ObjectDef.from_doc(LEAD)
    full, partial = obj.validators
    assert full.is_valid({"name": "王伟", "city": None})
    assert not full.is_valid({"name": None})
    assert not full.is_valid({"city": "上海"})  # name is required
    assert partial.is_valid({"city": "上海"})
    assert not partial.is_valid({"name": None})
    assert not full.is_valid({"name": "x", "unknown": 1})


def test_forms_are_checked_against_their_object():
    defs = DefinitionSet({"object": {"lead": LEAD}})
    form = {"name": "lead_quick", "object": "lead", "default": True, "sections": [
        {"label": {"en": "Basics"}, "fields": ["name", {"field": "city", "option_tags": {"上海": ["east"]}},
                                                 "ghost", "name", {"field": "score", "option_tags": {"1": ["x"]}}]}]}
    found = problems(form, "form", defs)
    assert ("/sections/0/fields/2", "unknown_field") in found
    assert ("/sections/0/fields/3", "duplicate_field") in found
    assert ("/sections/0/fields/4/option_tags", "not_a_choice") in found
    assert problems({**form, "object": "ghost"}, "form", defs) == {("/object", "unknown_object")}


def test_forms_apply_after_objects():
    assert apply_order({"form", "object"}) == ["object", "form"]


def test_json_diff_names_what_changed():
    new = json.loads(json.dumps(LEAD))
    new["properties"]["name"]["maxLength"] = 200
    del new["properties"]["city"]
    new["properties"]["email"] = {"x-field": "email"}
    diff = list(json_diff(LEAD, new))
    assert "~ /properties/name/maxLength: 120 -> 200" in diff
    assert "- /properties/city" in diff
    assert "+ /properties/email" in diff
