"""Branch: go to `then` when the rule holds for the run's record, else to `else` (or end)."""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import Problem
from ..conditions import rule_problems
from ..evaluation import explain
from . import CheckContext, Doc, StepContext, StepResult, StepType, register_step

ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
SCHEMA = {"type": "object", "required": ["rule", "then"],
          "properties": {"rule": {"type": "object"}, "then": ID, "else": ID}}


def run(ctx: StepContext, doc: Doc) -> StepResult:
    record = ctx.need_record()
    evaluation = explain(doc["rule"], record, ctx.object_name, ctx.snapshot, ctx.conn, ctx.now, ctx.tz)
    matched = evaluation["result"]
    return StepResult({"matched": matched, "evaluation": evaluation}, next=doc["then"] if matched else doc.get("else"))


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    yield from rule_problems(doc["rule"], ctx.object_name, ctx.snapshot, f"{ctx.pointer}/rule")


register_step(StepType("branch", SCHEMA, run, effect="none", check=check, falls_through=False, kind="if",
                       label={"en": "Branch (if)", "zh": "分支"},
                       edges=lambda d: [("then", d.get("then")), ("else", d.get("else"))]))
