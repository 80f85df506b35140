"""Update record: set fields of the run's record to values or expressions (see flows/expressions.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...errors import MetaCRMError, Problem
from ..expressions import EXPRESSION_SCHEMA, evaluate, expression_problems
from . import CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step

SCHEMA = {
    "type": "object", "required": ["set"],
    "properties": {"set": {"type": "object", "minProperties": 1,
                           "additionalProperties": {"$ref": "#/$defs/expr"}}},
    "$defs": EXPRESSION_SCHEMA["$defs"],
}


def run(ctx: StepContext, doc: Doc) -> StepResult:
    record = ctx.need_record()
    values: dict[str, Any] = {}

    def compute(fresh: dict[str, Any]) -> dict[str, Any]:
        # from the record as it is now, under its row lock: concurrent runs never lose an update
        values.update({name: evaluate(expr, {**record, **fresh}, ctx.now, ctx.tz) for name, expr in doc["set"].items()})
        return values

    try:
        updated = ctx.services.records.update_with(ctx.object_name, int(record["id"]), compute, conn=ctx.conn)
    except MetaCRMError as exc:
        raise StepFailed(f"could not update {ctx.object_name} {record['id']}: {exc.message}", retry=False,
                         code=exc.code, problems=exc.problems) from None
    if ctx.record is not None:
        ctx.record.update(updated)
    return StepResult({"set": values, "version": updated.get("version")})


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    obj = ctx.snapshot.objects.get(ctx.object_name)
    if obj is None:
        return
    for name, expr in doc["set"].items():
        if name not in obj.fields and name != "owner_id":
            yield Problem(f"{ctx.pointer}/set/{name}", "unknown_field", f"'{ctx.object_name}' has no field '{name}'")
        yield from expression_problems(expr, obj.fields, f"{ctx.pointer}/set/{name}")


register_step(StepType("update_record", SCHEMA, run, effect="db", check=check))
