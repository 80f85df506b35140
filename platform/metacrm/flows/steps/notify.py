"""Notify: an in-app notification for a user (the record's owner by default), read through the API."""

from __future__ import annotations

from sqlalchemy import select

from ..expressions import render
from ..recipients import RECIPIENT_SCHEMA, recipient_id
from ..tables import notifications
from . import Doc, StepContext, StepResult, StepType, register_step

SCHEMA = {
    "type": "object", "required": ["title"],
    "properties": {"to": RECIPIENT_SCHEMA, "title": {"type": "string", "minLength": 1, "maxLength": 300},
                   "body": {"type": "string", "maxLength": 5000}},
}


def run(ctx: StepContext, doc: Doc) -> StepResult:
    assert ctx.conn is not None
    values = {**(ctx.record or {}), "workflow": ctx.workflow.name}
    user_id = recipient_id(ctx.conn, doc.get("to", "owner"), ctx.record)
    if user_id is None:
        return StepResult({"skipped": "no recipient"})
    existing = ctx.conn.execute(select(notifications.c.id).where(notifications.c.key == ctx.key)).scalar()
    if existing is None:
        existing = ctx.conn.execute(notifications.insert().values(
            user_id=user_id, title=render(doc["title"], values)[:300], body=render(doc.get("body", ""), values),
            object=ctx.object_name, record_id=ctx.record_id, run_id=ctx.run_id, key=ctx.key,
            created_at=ctx.now).returning(notifications.c.id)).scalar_one()
    return StepResult({"notification_id": int(existing), "user_id": user_id})


register_step(StepType("notify", SCHEMA, run, effect="db"))
