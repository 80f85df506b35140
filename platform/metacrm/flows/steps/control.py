"""The builder's control nodes: if, switch, split (sticky A/B), foreach (bounded), merge.

Each one only picks the next node; none has side effects. `if` and `switch` keep the rule
evaluation (every condition with its value) in their output for the run debugger. A foreach node
is entered again after each pass of its body (the body's last node points back to it) and keeps
its position in its own output, so a resumed run continues with the next item, never from the top.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from ...errors import Problem
from ..conditions import rule_problems
from ..evaluation import explain
from ..splitting import pick_arm
from . import DEFAULT, CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step

ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
MAX_ITEMS = 1000


def _evaluate(ctx: StepContext, rule: Any) -> dict[str, Any]:
    return explain(rule, ctx.need_record(), ctx.object_name, ctx.snapshot, ctx.conn, ctx.now, ctx.tz)


# --- if ----------------------------------------------------------------------------------------

IF_SCHEMA = {"type": "object", "required": ["rule"], "title": "If",
             "properties": {"rule": {"type": "object", "title": "Rule"}, "then": ID, "else": ID}}


def run_if(ctx: StepContext, doc: Doc) -> StepResult:
    evaluation = _evaluate(ctx, doc["rule"])
    matched = evaluation["result"]
    return StepResult({"matched": matched, "evaluation": evaluation}, next=doc.get("then") if matched else doc.get("else"))


def check_if(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    yield from rule_problems(doc["rule"], ctx.object_name, ctx.snapshot, f"{ctx.pointer}/rule")


register_step(StepType("if", IF_SCHEMA, run_if, effect="none", check=check_if, falls_through=False, kind="if",
                       label={"en": "If / else", "zh": "条件分支"},
                       edges=lambda d: [("then", d.get("then")), ("else", d.get("else"))]))


# --- switch ------------------------------------------------------------------------------------

SWITCH_SCHEMA = {"type": "object", "required": ["cases"], "title": "Switch",
                 "properties": {"cases": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                     "type": "object", "required": ["rule"], "additionalProperties": False,
                     "properties": {"rule": {"type": "object"}, "next": ID, "label": {"type": "string"}}}},
                     "default": ID}}


def run_switch(ctx: StepContext, doc: Doc) -> StepResult:
    for index, case in enumerate(doc["cases"]):
        evaluation = _evaluate(ctx, case["rule"])
        if evaluation["result"]:
            return StepResult({"case": index, "evaluation": evaluation}, next=case.get("next"))
    return StepResult({"case": "default"}, next=doc.get("default"))


def check_switch(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    for index, case in enumerate(doc["cases"]):
        yield from rule_problems(case["rule"], ctx.object_name, ctx.snapshot, f"{ctx.pointer}/cases/{index}/rule")


register_step(StepType("switch", SWITCH_SCHEMA, run_switch, effect="none", check=check_switch, falls_through=False,
                       kind="switch", label={"en": "Switch", "zh": "多路分支"},
                       edges=lambda d: [*((f"cases/{i}/next", c.get("next")) for i, c in enumerate(d.get("cases") or ())),
                                        ("default", d.get("default"))]))


# --- split -------------------------------------------------------------------------------------

SPLIT_SCHEMA = {"type": "object", "required": ["arms"], "title": "A/B split",
                "properties": {"salt": {"type": "string", "maxLength": 64},
                               "arms": {"type": "array", "minItems": 2, "maxItems": 10, "items": {
                                   "type": "object", "required": ["name", "weight"], "additionalProperties": False,
                                   "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 32},
                                                  "weight": {"type": "number", "minimum": 0, "maximum": 100},
                                                  "next": ID}}}}}


def run_split(ctx: StepContext, doc: Doc) -> StepResult:
    arms = doc["arms"]
    salt = doc.get("salt") or f"{ctx.workflow.name}:{ctx.step_id}"
    who = ctx.record_id if ctx.record_id is not None else ctx.run_id
    arm = arms[pick_arm(who, salt, [a["weight"] for a in arms])]
    return StepResult({"arm": arm["name"], "salt": salt}, next=arm.get("next"))


def check_split(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    names = [a["name"] for a in doc["arms"]]
    if len(set(names)) != len(names):
        yield Problem(f"{ctx.pointer}/arms", "duplicate_arm", "every arm needs its own name")
    if sum(a["weight"] for a in doc["arms"]) <= 0:
        yield Problem(f"{ctx.pointer}/arms", "no_weight", "at least one arm needs a weight above 0")


register_step(StepType("split", SPLIT_SCHEMA, run_split, effect="none", check=check_split, falls_through=False,
                       kind="split", label={"en": "A/B split", "zh": "A/B 分流"},
                       edges=lambda d: [(f"arms/{i}/next", a.get("next")) for i, a in enumerate(d.get("arms") or ())]))


# --- foreach -----------------------------------------------------------------------------------

FOREACH_SCHEMA = {"type": "object", "required": ["items", "body"], "title": "For each",
                  "properties": {
                      "items": {"type": "object", "additionalProperties": False,
                                "properties": {"field": {"type": "string"}, "values": {"type": "array"},
                                               "related": {"type": "object", "required": ["object", "via"],
                                                           "properties": {"object": {"type": "string"},
                                                                          "via": {"type": "string"}}}},
                                "minProperties": 1, "maxProperties": 1},
                      "max": {"type": "integer", "minimum": 1, "maximum": MAX_ITEMS},
                      "body": ID}}


def _items(ctx: StepContext, doc: Doc, limit: int) -> list[Any]:
    spec = doc["items"]
    if "values" in spec:
        return list(spec["values"])[:limit]
    if "field" in spec:
        value = ctx.need_record().get(spec["field"])
        if value is None or value == "":
            return []
        return (list(value) if isinstance(value, list | tuple) else [value])[:limit]
    related = spec["related"]
    obj = ctx.snapshot.objects.get(related["object"])
    if obj is None or ctx.conn is None or ctx.record_id is None:
        raise StepFailed(f"cannot list {related['object']} records here", retry=False, code="no_items")
    table = ctx.snapshot.tables[obj.name]
    query = (select(table.c.id).where(table.c[related["via"]] == ctx.record_id, table.c.deleted_at.is_(None))
             .order_by(table.c.id).limit(limit))
    return [int(i) for i in ctx.conn.execute(query).scalars()]


def _previous_pass(ctx: StepContext) -> dict[str, Any] | None:
    from ..tables import StepStatus, steps

    if ctx.conn is None:
        return None
    out = ctx.conn.execute(select(steps.c.output).where(
        steps.c.run_id == ctx.run_id, steps.c.step == ctx.step_id, steps.c.status == StepStatus.DONE)
        .order_by(steps.c.seq.desc()).limit(1)).scalar()
    return out if isinstance(out, dict) and not out.get("done") else None


def run_foreach(ctx: StepContext, doc: Doc) -> StepResult:
    limit = int(doc.get("max") or MAX_ITEMS)
    before = _previous_pass(ctx)
    if before is None:
        items = _items(ctx, doc, limit + 1)
        truncated = len(items) > limit
        items = items[:limit]
        index = 0
    else:
        items, truncated, index = before["items"], before.get("truncated", False), int(before["index"]) + 1
    if index >= len(items):
        return StepResult({"done": True, "count": len(items), "truncated": truncated}, next=DEFAULT)
    return StepResult({"index": index, "count": len(items), "item": items[index], "items": items,
                       "truncated": truncated}, next=doc["body"])


def check_foreach(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    if "max" not in doc:
        yield Problem(f"{ctx.pointer}/max", "foreach_without_max",
                      f"a foreach needs 'max', the most items it goes through (1 to {MAX_ITEMS})")
    field = (doc.get("items") or {}).get("field")
    obj = ctx.snapshot.objects.get(ctx.object_name)
    if field is not None and obj is not None and field not in obj.fields:
        yield Problem(f"{ctx.pointer}/items/field", "unknown_field", f"'{ctx.object_name}' has no field '{field}'")
    related = (doc.get("items") or {}).get("related")
    if related is not None:
        other = ctx.snapshot.objects.get(related.get("object", ""))
        if other is None:
            yield Problem(f"{ctx.pointer}/items/related/object", "unknown_object",
                          f"no object named '{related.get('object')}'")
        elif related.get("via") not in other.fields:
            yield Problem(f"{ctx.pointer}/items/related/via", "unknown_field",
                          f"'{other.name}' has no field '{related.get('via')}'")


register_step(StepType("foreach", FOREACH_SCHEMA, run_foreach, effect="none", check=check_foreach, kind="foreach",
                       label={"en": "For each", "zh": "循环"}, loops=True,
                       edges=lambda d: [("body", d.get("body")), ("next", d.get("next"))]))


# --- merge -------------------------------------------------------------------------------------

def run_merge(ctx: StepContext, doc: Doc) -> StepResult:
    return StepResult({})


register_step(StepType("merge", {"type": "object", "title": "Merge", "properties": {}}, run_merge, effect="none",
                       kind="merge", label={"en": "Merge", "zh": "汇合"}))
