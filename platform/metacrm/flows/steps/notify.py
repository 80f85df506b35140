"""Notify: an in-app notification for a user (the record's owner by default), read through the API.

Written in the recipient's language: `translations` {"zh": {"title", "body"}} beside the default
`title`/`body`, and option values shown as their labels in that language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...store.system import users
from ..expressions import render
from ..recipients import RECIPIENT_SCHEMA, recipient_id
from ..tables import notifications
from . import Doc, StepContext, StepResult, StepType, register_step

SCHEMA = {
    "type": "object", "required": ["title"],
    "properties": {"to": RECIPIENT_SCHEMA, "title": {"type": "string", "minLength": 1, "maxLength": 300},
                   "body": {"type": "string", "maxLength": 5000},
                   "translations": {
                       "description": "The title and body in other languages, by language code (e.g. zh).",
                       "type": "object", "propertyNames": {"pattern": "^[a-z]{2}(-[A-Za-z]{2,4})?$"},
                       "additionalProperties": {"type": "object", "additionalProperties": False, "properties": {
                           "title": {"type": "string", "minLength": 1, "maxLength": 300},
                           "body": {"type": "string", "maxLength": 5000}}}}},
}


def texts(doc: Doc, language: str) -> tuple[str, str]:
    """The title and body for a reader of `language` ('zh-CN' finds 'zh'), else the defaults."""
    translations = doc.get("translations") or {}
    found = translations.get(language) or translations.get(language.split("-")[0].split("_")[0]) or {}
    return found.get("title") or doc["title"], found.get("body", doc.get("body", ""))


def labelled(ctx: StepContext, record: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The record with option keys as their labels in the reader's language ("won" -> "Won" / "赢单")."""
    obj = ctx.snapshot.objects.get(ctx.object_name)
    out = dict(record)
    if obj is None:
        return out
    for name, f in obj.fields.items():
        labels = f.schema.get("x-option-labels") or {}
        value = out.get(name)
        if not labels or value is None:
            continue
        if isinstance(value, list):
            out[name] = ", ".join(str(_label(labels, v, language)) for v in value)
        else:
            out[name] = _label(labels, value, language)
    return out


def _label(labels: Mapping[str, Any], value: Any, language: str) -> Any:
    found = labels.get(value) if isinstance(value, str) else None
    base = language.replace("_", "-").split("-")[0].lower()  # "zh-CN" reads the "zh" label
    return (found.get(language) or found.get(base) or found.get("en") or value) if isinstance(found, Mapping) else value


def run(ctx: StepContext, doc: Doc) -> StepResult:
    assert ctx.conn is not None
    user_id = recipient_id(ctx.conn, doc.get("to", "owner"), ctx.record)
    if user_id is None:
        return StepResult({"skipped": "no recipient"})
    language = ctx.conn.execute(select(users.c.language).where(users.c.id == user_id)).scalar() or "en"
    values = {**labelled(ctx, ctx.record or {}, str(language)), "workflow": ctx.workflow.name}
    title, body = texts(doc, str(language))
    insert = pg_insert if ctx.conn.dialect.name == "postgresql" else sqlite_insert
    existing = ctx.conn.execute(insert(notifications).values(  # once per key: one statement, not a read first
        user_id=user_id, title=render(title, values)[:300], body=render(body, values),
        object=ctx.object_name, record_id=ctx.record_id, run_id=ctx.run_id, key=ctx.key,
        created_at=ctx.now).on_conflict_do_nothing(index_elements=["key"]).returning(notifications.c.id)).scalar()
    if existing is None:
        existing = ctx.conn.execute(select(notifications.c.id).where(notifications.c.key == ctx.key)).scalar_one()
    return StepResult({"notification_id": int(existing), "user_id": user_id})


register_step(StepType("notify", SCHEMA, run, effect="db"))
