"""Send message: e-mail, SMS or WeChat to the record, through the channel's adapter (see channels.py)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from ...errors import Problem
from ..aftercommit import later
from ..channels import CHANNELS, adapter_for
from ..consent import refusal
from ..expressions import EXPRESSION_SCHEMA, evaluate, expression_problems, render
from ..tables import outbox
from . import CheckContext, Doc, StepContext, StepResult, StepType, register_step

DEFAULT_FIELD = {"email": "email", "sms": "phone", "wechat": "wechat_id"}
SCHEMA = {
    "type": "object", "required": ["channel", "body"],
    "properties": {
        "channel": {"enum": list(CHANNELS)},
        "to": {"$ref": "#/$defs/expr"},
        "subject": {"type": "string", "maxLength": 300},
        "body": {"type": "string", "minLength": 1, "maxLength": 20000},
        "purpose": {"enum": ["marketing", "transactional"],
                    "description": "marketing (default) needs the record's consent; transactional messages do not"},
    },
    "$defs": EXPRESSION_SCHEMA["$defs"],
}


def run(ctx: StepContext, doc: Doc) -> StepResult:
    assert ctx.conn is not None
    record = ctx.record or {}
    channel = doc["channel"]
    to = evaluate(doc.get("to", {"field": DEFAULT_FIELD[channel]}), record, ctx.now, ctx.tz)
    if not to:
        return StepResult({"skipped": "no recipient"})
    refused = refusal(ctx, doc, channel, str(to))
    if refused is not None:  # recorded in the run, never sent
        return StepResult({"skipped": refused, "channel": channel})
    existing = ctx.conn.execute(select(outbox.c.id, outbox.c.status).where(outbox.c.key == ctx.key)).first()
    if existing is not None:
        return StepResult({"message_id": existing.id, "status": existing.status})
    adapter = adapter_for(ctx.services.settings, channel)
    values = {**record, "workflow": ctx.workflow.name}
    status = "pending" if adapter else "stored"
    message_id = ctx.conn.execute(outbox.insert().values(
        channel=channel, adapter=adapter.name if adapter else "outbox", recipient=str(to)[:320],
        subject=render(doc.get("subject", ""), values)[:300] or None, body=render(doc["body"], values),
        status=status, attempts=0, object=ctx.object_name, record_id=ctx.record_id, run_id=ctx.run_id,
        key=ctx.key, created_at=ctx.now, next_at=ctx.now if adapter else None).returning(outbox.c.id)).scalar_one()
    if adapter:
        later(ctx.conn, "workflows.deliver", message_id=int(message_id))
    return StepResult({"message_id": int(message_id), "status": status})


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    obj = ctx.snapshot.objects.get(ctx.object_name)
    if obj is None:
        return
    to = doc.get("to", {"field": DEFAULT_FIELD[doc["channel"]]})
    yield from expression_problems(to, obj.fields, f"{ctx.pointer}/to")
    for key in ("subject", "body"):
        if key in doc:
            yield from (p for p in expression_problems({"template": doc[key]}, {**obj.fields, "workflow": 1},
                                                       f"{ctx.pointer}/{key}"))


register_step(StepType("send_message", SCHEMA, run, effect="db", check=check))
