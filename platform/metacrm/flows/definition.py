"""The `workflow` definition kind: its registration and the checks beyond its meta-schema.

Problems carry JSON pointers into the document: an unknown step type (`/steps/2/type`), a
step's own keys against its type's schema (`/steps/2/duration/unit`), a dangling step id
(`/steps/0/next`), a loop with no wait step (`/steps/1`), a rule invalid for the object
(`/steps/3/rule/all/0/field`), unknown fields, segments, forms and tags, a bad cron expression
or time zone (`/trigger/cron`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from jsonschema import Draft202012Validator

from ..errors import Problem
from ..meta.kinds import KINDS, DefinitionSet, Kind, pointer, register_kind
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot
from .conditions import rule_problems, rule_reads_only_fields
from .model import Workflow, graph_problems
from .steps import STEP_TYPES, CheckContext

COMMON_STEP_KEYS = {"id", "type", "label", "next", "retry", "ui"}


@cache
def _step_validator(type_name: str) -> Draft202012Validator:
    schema = STEP_TYPES[type_name].schema
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _light_snapshot(defs: DefinitionSet) -> Snapshot:
    objects = {}
    for name, doc in defs.items("object"):
        try:
            objects[name] = ObjectDef.from_doc(doc)
        except (KeyError, TypeError):  # an invalid object is reported by its own check
            continue
    return Snapshot(0, defs, objects, {})


def _refers(defs: DefinitionSet, kind: str, name: str, where: str) -> Iterator[Problem]:
    """A reference to another definition; kinds this build does not have are not checked."""
    if kind in KINDS and defs.get(kind, name) is None:
        yield Problem(where, f"unknown_{kind}", f"no {kind} named '{name}'")


def _trigger_problems(doc: dict[str, Any], defs: DefinitionSet, snap: Snapshot) -> Iterator[Problem]:
    trigger, obj_name = doc["trigger"], doc["object"]
    obj = snap.objects[obj_name]
    kind = trigger["type"]
    for key in ("when", "becomes", "rule"):
        if key in trigger:
            found = rule_problems(trigger[key], obj_name, snap, f"/trigger/{key}")
            yield from found
            if key == "becomes" and not found and not rule_reads_only_fields(trigger[key], obj_name, snap):
                yield Problem("/trigger/becomes", "becomes_needs_fields",
                              "a 'becomes' rule compares the record before and after a field change, and tags "
                              "and related records have no 'before' there: test fields only, or use a "
                              "'tag_added' trigger or a 'meets_criteria' trigger with this rule")
    if kind == "meets_criteria" and "when" not in trigger:
        yield Problem("/trigger/when", "required", "a meets_criteria trigger needs its 'when' rule")
    for i, name in enumerate(trigger.get("fields", ())):
        if name not in obj.fields and name != "owner_id":
            yield Problem(f"/trigger/fields/{i}", "unknown_field", f"'{obj_name}' has no field '{name}'")
    if "segment" in trigger:
        yield from _refers(defs, "segment", trigger["segment"], "/trigger/segment")
        segment = defs.get("segment", trigger["segment"])
        if segment is not None and segment.get("object") not in (None, obj_name):
            yield Problem("/trigger/segment", "other_object",
                          f"segment '{trigger['segment']}' is over '{segment.get('object')}', not '{obj_name}'")
        elif segment is not None and kind in ("segment_entered", "segment_left") and not segment.get("track"):
            yield Problem("/trigger/segment", "untracked_segment",
                          f"segment '{trigger['segment']}' is not tracked: set \"track\": true on it so that "
                          "records entering and leaving it are recorded")
    if "form" in trigger:
        yield from _refers(defs, "form", trigger["form"], "/trigger/form")
        form = defs.get("form", trigger["form"])
        if form is not None and form.get("object") != obj_name:
            yield Problem("/trigger/form", "other_object",
                          f"form '{trigger['form']}' is for '{form.get('object')}', not '{obj_name}'")
    if "tag" in trigger:
        yield from _refers(defs, "tag", trigger["tag"], "/trigger/tag")
    goal = doc.get("goal")
    if goal is not None:
        yield from rule_problems(goal, obj_name, snap, "/goal")
    if kind == "schedule":
        if not croniter.is_valid(trigger["cron"]):
            yield Problem("/trigger/cron", "invalid_cron", f"'{trigger['cron']}' is not a cron expression")
        if "timezone" in trigger:
            try:
                ZoneInfo(trigger["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                yield Problem("/trigger/timezone", "invalid_timezone",
                              f"'{trigger['timezone']}' is not a time zone (use e.g. Asia/Shanghai)")


def _step_problems(doc: dict[str, Any], snap: Snapshot) -> Iterator[Problem]:
    for i, step in enumerate(doc["steps"]):
        where = f"/steps/{i}"
        kind = STEP_TYPES.get(step["type"])
        if kind is None:
            yield Problem(f"{where}/type", "unknown_step_type",
                          f"unknown step type '{step['type']}'; known: {', '.join(sorted(STEP_TYPES))}")
            continue
        allowed = COMMON_STEP_KEYS | set(kind.schema.get("properties", {}))
        for key in step:
            if key not in allowed:
                yield Problem(f"{where}/{key}", "unknown_key", f"a {kind.name} step has no '{key}'")
        shape = [Problem(where + pointer(e.absolute_path), str(e.validator), e.message)
                 for e in _step_validator(kind.name).iter_errors(step)]
        yield from shape
        if not shape and kind.check is not None:
            yield from kind.check(step, CheckContext(doc["object"], snap, where))


def check_workflow(doc: dict[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    obj_name = doc["object"]
    if defs.get("object", obj_name) is None:
        yield Problem("/object", "unknown_object", f"no object named '{obj_name}'")
        return
    snap = _light_snapshot(defs)
    if obj_name not in snap.objects:
        return
    yield from _trigger_problems(doc, defs, snap)
    yield from _step_problems(doc, snap)
    yield from graph_problems(Workflow(doc["name"], 0, doc))


register_kind(Kind("workflow", "workflows", check=check_workflow,
                   refers_to=("object", "form", "segment", "tag")))
