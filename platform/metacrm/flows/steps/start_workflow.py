"""Start workflow: start another workflow (same object) for the run's record, as a child run."""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import Problem
from . import CheckContext, Doc, StepContext, StepResult, StepType, register_step

SCHEMA = {"type": "object", "required": ["workflow"],
          "properties": {"workflow": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$"}}}


def run(ctx: StepContext, doc: Doc) -> StepResult:
    from ..runs import start_child_run

    assert ctx.conn is not None
    run_id = start_child_run(ctx.conn, ctx.services, ctx.snapshot, doc["workflow"], ctx.run, ctx.key)
    return StepResult({"run_id": run_id})


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    other = ctx.snapshot.definitions.get("workflow", doc["workflow"])
    if other is None:
        yield Problem(f"{ctx.pointer}/workflow", "unknown_workflow", f"no workflow named '{doc['workflow']}'")
    elif other.get("object") != ctx.object_name:
        yield Problem(f"{ctx.pointer}/workflow", "other_object",
                      f"'{doc['workflow']}' runs on '{other.get('object')}', not '{ctx.object_name}'")


register_step(StepType("start_workflow", SCHEMA, run, effect="db", check=check))
