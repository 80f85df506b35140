"""Wait: pause the run for a duration, or until a date field of the record (plus an offset, at a time).

The next step is written with its due time; the sweeper hands it to a worker once it is due, so
a wait survives restarts and costs nothing while it waits. A missing date field waits not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

from ...errors import Problem
from ..expressions import EXPRESSION_SCHEMA, shift
from . import CheckContext, Doc, StepContext, StepResult, StepType, register_step

OFFSET = EXPRESSION_SCHEMA["$defs"]["offset"]
SCHEMA = {
    "type": "object",
    "oneOf": [{"required": ["duration"]}, {"required": ["until"]}],
    "properties": {
        "duration": {**OFFSET, "required": ["amount", "unit"]},
        "until": {
            "type": "object",
            "properties": {
                "field": {"type": "string"},
                "date": {"type": "string", "format": "date-time"},
                "offset": OFFSET,
                "at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
            },
            "oneOf": [{"required": ["field"]}, {"required": ["date"]}],
            "additionalProperties": False,
        },
    },
}


def _parse(value: str) -> datetime | date:
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return date.fromisoformat(value)


def due_time(ctx: StepContext, doc: Doc) -> datetime | None:
    if "duration" in doc:
        return shift(ctx.now, doc["duration"])
    until = doc["until"]
    if "date" in until:
        raw: str | None = until["date"]
    else:
        raw = (ctx.record or {}).get(until["field"])
    if raw is None:
        return None
    value = _parse(str(raw))
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(value, time(0, 0), ctx.tz)
    moment = shift(moment, until.get("offset"))
    if until.get("at"):
        hour, minute = (int(x) for x in until["at"].split(":"))
        moment = moment.astimezone(ctx.tz).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment.astimezone(UTC)


def run(ctx: StepContext, doc: Doc) -> StepResult:
    due = due_time(ctx, doc)
    if due is None or due <= ctx.now:
        return StepResult({"until": None if due is None else due.isoformat(), "waited": False})
    return StepResult({"until": due.isoformat()}, due_at=due)


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    until = doc.get("until") or {}
    name = until.get("field")
    if name is None:
        return
    obj = ctx.snapshot.objects.get(ctx.object_name)
    field = obj.fields.get(name) if obj else None
    if name in ("created_at", "updated_at"):
        return
    if field is None:
        yield Problem(f"{ctx.pointer}/until/field", "unknown_field", f"'{ctx.object_name}' has no field '{name}'")
    elif field.type.name not in ("date", "datetime"):
        yield Problem(f"{ctx.pointer}/until/field", "not_a_date", f"'{name}' is a {field.type.name}, not a date")


register_step(StepType("wait", SCHEMA, run, effect="none", check=check, is_wait=True))
