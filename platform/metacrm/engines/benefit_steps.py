"""The `issue_coupon` workflow step: a member's personal code of a coupon benefit, once per member.

"Once" is a limits counter `bf:<benefit>:issued:<member>` with cap 1, moved in the step's
transaction: a second run for the same member (a retried step, a second trigger, two workflows)
finds the counter full and answers with the code already issued, so a new member gets exactly
one welcome coupon however often the workflow fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from ..errors import MetaCRMError, Problem
from ..flows.steps import CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step
from ..store import limits
from . import coupons
from .benefits import MEMBER, codes, total_key

SCHEMA = {"type": "object", "required": ["benefit"], "properties": {
    "benefit": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$",
                "description": "A coupon benefit (requires_code); the run's record must be a member."},
    "campaign": {"type": "string", "maxLength": 64}}}


def _run(ctx: StepContext, doc: Doc) -> StepResult:
    assert ctx.conn is not None
    record = ctx.need_record()
    benefit = ctx.snapshot.definitions.get("benefit", doc["benefit"])
    if benefit is None or not benefit.get("requires_code"):
        raise StepFailed(f"{doc['benefit']} is not a coupon benefit", retry=False, code="not_a_coupon")
    member = int(record["id"])
    try:
        limits.take(ctx.conn, f"{total_key(benefit['key'])}:issued:{member}", cap=1, ref=f"run:{ctx.run_id}")
    except limits.LimitReached:
        found = ctx.conn.execute(select(codes.c.code).where(codes.c.benefit == benefit["key"],
                                                            codes.c.member_id == member).limit(1)).scalar()
        return StepResult({"code": coupons.shown(found) if found else None, "already_issued": True})
    try:
        made = coupons.generate(ctx.conn, benefit, 1, campaign=doc.get("campaign"), member_id=member)
    except MetaCRMError as exc:
        raise StepFailed(f"could not issue a code: {exc.message}", retry=False, code=exc.code,
                         problems=exc.problems) from None
    return StepResult({"code": made[0], "already_issued": False})


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    benefit = ctx.snapshot.definitions.get("benefit", doc.get("benefit", ""))
    if benefit is None:
        yield Problem(f"{ctx.pointer}/benefit", "unknown_benefit", f"no benefit named '{doc.get('benefit')}'")
    elif not benefit.get("requires_code"):
        yield Problem(f"{ctx.pointer}/benefit", "not_a_coupon", f"'{doc['benefit']}' takes no codes")
    if ctx.object_name != MEMBER:
        yield Problem(f"{ctx.pointer}/benefit", "other_object", "coupons are issued to members")


def _label() -> Any:
    return {"en": "Issue a coupon", "zh": "发放优惠券"}


register_step(StepType("issue_coupon", SCHEMA, _run, effect="db", check=check, label=_label()))
