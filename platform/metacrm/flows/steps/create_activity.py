"""Create activity: a task/call/... record linked to the run's record, owned by its owner by default."""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import MetaCRMError, Problem
from ..expressions import EXPRESSION_SCHEMA, evaluate, expression_problems
from . import CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step

SCHEMA = {
    "type": "object", "required": ["values"],
    "properties": {
        "object": {"type": "string", "default": "activity"},
        "link_field": {"type": "string"},
        "values": {"type": "object", "additionalProperties": {"$ref": "#/$defs/expr"}},
        "owner": {"enum": ["record_owner", "none"]},
    },
    "$defs": EXPRESSION_SCHEMA["$defs"],
}


def _link_field(doc: Doc, ctx_object: str, target_fields: dict) -> str | None:
    if doc.get("link_field"):
        return str(doc["link_field"])
    return next((n for n, f in target_fields.items() if f.type.is_relation and f.target == ctx_object), None)


def run(ctx: StepContext, doc: Doc) -> StepResult:
    record = ctx.need_record()
    target = ctx.snapshot.object(doc.get("object", "activity"))
    values = {name: evaluate(expr, record, ctx.now, ctx.tz) for name, expr in doc["values"].items()}
    link = _link_field(doc, ctx.object_name, dict(target.fields))
    if link:
        values[link] = record["id"]
    if doc.get("owner", "record_owner") == "record_owner" and record.get("owner_id") is not None:
        values.setdefault("owner_id", record["owner_id"])
    try:
        created = ctx.services.records.create(target.name, values, conn=ctx.conn)
    except MetaCRMError as exc:
        raise StepFailed(f"could not create the {target.name}: {exc.message}", retry=False, code=exc.code,
                         problems=exc.problems) from None
    return StepResult({"object": target.name, "record_id": created["id"]})


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    name = doc.get("object", "activity")
    target = ctx.snapshot.objects.get(name)
    if target is None:
        yield Problem(f"{ctx.pointer}/object", "unknown_object", f"no object named '{name}'")
        return
    source = ctx.snapshot.objects.get(ctx.object_name)
    link = _link_field(doc, ctx.object_name, dict(target.fields))
    if link is None or link not in target.fields:
        yield Problem(f"{ctx.pointer}/link_field", "no_link",
                      f"'{name}' has no relation field pointing at '{ctx.object_name}'")
    for field, expr in doc["values"].items():
        if field not in target.fields and field != "owner_id":
            yield Problem(f"{ctx.pointer}/values/{field}", "unknown_field", f"'{name}' has no field '{field}'")
        if source is not None:
            yield from expression_problems(expr, source.fields, f"{ctx.pointer}/values/{field}")


register_step(StepType("create_activity", SCHEMA, run, effect="db", check=check))
