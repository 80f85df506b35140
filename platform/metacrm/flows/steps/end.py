"""End: the run completes here."""

from __future__ import annotations

from . import Doc, StepContext, StepResult, StepType, register_step


def run(ctx: StepContext, doc: Doc) -> StepResult:
    return StepResult(next=None)


register_step(StepType("end", {"type": "object", "properties": {}}, run, effect="none", falls_through=False,
                       edges=lambda d: [], kind="end", label={"en": "End", "zh": "结束"}))
