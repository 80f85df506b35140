"""Workflow definitions are validated like every definition: clear errors with JSON pointers."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from metacrm.errors import DefinitionError
from metacrm.meta.kinds import DefinitionSet, validate_definition
from metacrm.meta.packs import load_pack

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "name": "wf", "object": "lead", "trigger": {"type": "record_created"},
    "steps": [
        {"id": "first", "type": "update_record", "set": {"status": "contacted"}},
        {"id": "check", "type": "branch", "rule": {"field": "city", "op": "eq", "value": "shanghai"},
         "then": "pause", "else": "done"},
        {"id": "pause", "type": "wait", "duration": {"amount": 1, "unit": "day"}, "next": "first"},
        {"id": "done", "type": "end"},
    ],
}


@pytest.fixture(scope="module")
def defs() -> DefinitionSet:
    import metacrm.engines.wiring  # noqa: F401  (registers every kind and step type)

    files = load_pack([ROOT / "metadata"], DefinitionSet())
    out = DefinitionSet()
    for f in files:
        out.put(f.kind, f.name, f.doc)
    return out


def problems(doc, defs):
    return {(p.field, p.code) for p in validate_definition("workflow", doc, defs)}


def test_a_loop_through_a_wait_is_valid(defs):
    assert problems(BASE, defs) == set()


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["steps"][0].update(type="teleport"), ("/steps/0/type", "unknown_step_type")),
    (lambda d: d["steps"][1].update(then="nowhere"), ("/steps/1/then", "dangling_step")),
    (lambda d: d["steps"][2].update(next="ghost"), ("/steps/2/next", "dangling_step")),
    (lambda d: d.update(start="ghost"), ("/start", "dangling_step")),
    (lambda d: d["steps"][2].update(type="update_record", set={"score": 1}, duration=None) or
     d["steps"][2].pop("duration"), ("/steps/0", "cycle_without_wait")),
    (lambda d: d["steps"][1]["rule"].update(field="planet"), ("/steps/1/rule/field", "unknown_field")),
    (lambda d: d["steps"][1]["rule"].update(op="has_any"), ("/steps/1/rule/op", "invalid_operator")),
    (lambda d: d["steps"][0]["set"].update(colour="red"), ("/steps/0/set/colour", "unknown_field")),
    (lambda d: d["steps"][0].update(sett={}), ("/steps/0/sett", "unknown_key")),
    (lambda d: d["steps"][2]["duration"].update(unit="fortnight"), ("/steps/2/duration/unit", "enum")),
    (lambda d: d["steps"][3].update(id="first"), ("/steps/3/id", "duplicate_step")),
    (lambda d: d.update(object="planet"), ("/object", "unknown_object")),
    (lambda d: d.update(trigger={"type": "record_updated", "fields": ["colour"]}), ("/trigger/fields/0", "unknown_field")),
    (lambda d: d.update(trigger={"type": "schedule", "cron": "every monday"}), ("/trigger/cron", "invalid_cron")),
    (lambda d: d.update(trigger={"type": "schedule", "cron": "0 9 * * 1", "timezone": "Mars/Olympus"}),
     ("/trigger/timezone", "invalid_timezone")),
    (lambda d: d.update(trigger={"type": "segment_entered", "segment": "nope"}), ("/trigger/segment", "unknown_segment")),
    (lambda d: d.update(trigger={"type": "tag_added"}), ("/trigger", "required")),
    (lambda d: d["steps"][0].update(type="add_tag", tags=["no_such_tag"], set=None) or d["steps"][0].pop("set"),
     ("/steps/0/tags/0", "unknown_tag")),
])
def test_invalid_workflows_name_the_place(defs, change, expected):
    doc = copy.deepcopy(BASE)
    change(doc)
    found = problems(doc, defs)
    assert expected in found, found


def test_rule_problems_point_into_the_rule(defs):
    doc = copy.deepcopy(BASE)
    doc["steps"][1]["rule"] = {"all": [{"field": "city", "op": "eq", "value": "shanghai"},
                                       {"field": "score", "op": "gt", "value": "lots"}]}
    assert any(f.startswith("/steps/1/rule/all/1") for f, _ in problems(doc, defs))


def test_standard_workflows_apply_with_the_pack(services):
    files = load_pack([ROOT / "metadata", ROOT / "workflows"], DefinitionSet())
    from metacrm.store.definitions import incoming_from_files

    plan = services.metadata.apply(incoming_from_files(files))
    names = {c.name for c in plan.changes if c.kind == "workflow"}
    assert names == {"new_lead_routing", "dormant_customer_reactivation", "opportunity_stage_notification",
                     "form_follow_up", "welcome_ab_test", "welcome_member_coupon", "tier_downgrade_warning"}
    broken = copy.deepcopy(BASE)
    broken["steps"][1]["then"] = "nowhere"
    with pytest.raises(DefinitionError) as err:
        services.metadata.apply([("workflow", "wf", broken)])
    assert any(p.field == "workflow/wf#/steps/1/then" for p in err.value.problems)
