"""Wait: pause the run for a duration, or until a date field of the record (plus an offset, at a time).

The next step is written with its due time; the sweeper hands it to a worker once it is due, so
a wait survives restarts and costs nothing while it waits.

A wait until a record's date field follows the field: the next step's row remembers the wait
(`wf_step.wait_step`), a change of the field moves its due time (flows/follow.py), and the time
is computed again from the current record at wake. An empty field follows the step's
`until.if_empty`: "skip" (go on at once; the default, as before), "wait" (wait until it is set)
or "fail" (fail the run, `date_empty`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...errors import Problem
from ..expressions import EXPRESSION_SCHEMA, shift
from ..waittime import (
    BUSINESS_HOURS_SCHEMA,
    TZ_SCHEMA,
    after_duration,
    next_at,
    within_business_hours,
    zone_of,
)
from . import CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step

NEVER = datetime(2999, 12, 31, tzinfo=UTC)
"""The due time of a step waiting for an empty date field to be set (`if_empty: wait`)."""

OFFSET = EXPRESSION_SCHEMA["$defs"]["offset"]
NODE = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
SCHEMA = {
    "type": "object",
    "oneOf": [{"required": ["duration"]}, {"required": ["until"]}, {"required": ["event", "timeout"]}],
    "properties": {
        "duration": {**OFFSET, "required": ["amount", "unit"]},
        "until": {
            "type": "object",
            "properties": {
                "field": {"type": "string"},
                "date": {"type": "string", "format": "date-time"},
                "offset": OFFSET,
                "at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "if_empty": {"enum": ["skip", "wait", "fail"]},
            },
            "anyOf": [{"required": ["field"]}, {"required": ["date"]}, {"required": ["at"]}],
            "not": {"required": ["field", "date"]},
            "additionalProperties": False,
        },
        "event": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,63}$"},
        "timeout": {**OFFSET, "required": ["amount", "unit"]},
        "on_timeout": NODE,
        "tz": TZ_SCHEMA,
        "business_hours": BUSINESS_HOURS_SCHEMA,
    },
}


def _parse(value: str) -> datetime | date:
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return date.fromisoformat(value)


def follows_field(doc: Doc) -> str | None:
    """The record field this wait follows, if it waits until one."""
    until = doc.get("until")
    return str(until["field"]) if isinstance(until, Mapping) and "field" in until else None


def due_for(doc: Doc, record: Mapping[str, Any] | None, now: datetime, tz: tzinfo) -> datetime | None:
    """When the wait ends for this record (None: an empty date field; see `if_empty`)."""
    zone = zone_of(doc, record, tz)
    due = _raw_due(doc, record, now, zone)
    if due is not None and doc.get("business_hours"):
        due = within_business_hours(due, doc["business_hours"], zone)
    return None if due is None else due.astimezone(UTC)


def _raw_due(doc: Doc, record: Mapping[str, Any] | None, now: datetime, tz: tzinfo) -> datetime | None:
    if "duration" in doc:
        return after_duration(now, doc["duration"], tz)
    if "event" in doc:
        return after_duration(now, doc["timeout"], tz)
    until = doc["until"]
    if "date" not in until and "field" not in until:
        return next_at(now, until["at"], tz)
    raw = until["date"] if "date" in until else (record or {}).get(until["field"])
    if raw is None or raw == "":
        return None
    value = _parse(str(raw))
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(value, time(0, 0), tz)
    moment = shift(moment, until.get("offset"))
    if until.get("at"):
        hour, minute = (int(x) for x in until["at"].split(":"))
        moment = moment.astimezone(tz).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment.astimezone(UTC)


def due_or_policy(doc: Doc, record: Mapping[str, Any] | None, now: datetime, tz: tzinfo) -> datetime:
    """The due time with the empty-field policy applied: `now` (skip), NEVER (wait), or StepFailed."""
    due = due_for(doc, record, now, tz)
    if due is not None:
        return due
    policy = (doc.get("until") or {}).get("if_empty", "skip")
    if policy == "fail":
        raise StepFailed(f"the date field '{follows_field(doc)}' is empty", retry=False, code="date_empty")
    return NEVER if policy == "wait" else now


def due_time(ctx: StepContext, doc: Doc) -> datetime | None:
    return due_for(doc, ctx.record, ctx.now, ctx.tz)


def run(ctx: StepContext, doc: Doc) -> StepResult:
    if "event" in doc:  # the next node is written due at the timeout; the event brings it forward (events.py)
        due = due_or_policy(doc, ctx.record, ctx.now, ctx.tz)
        return StepResult({"event": doc["event"], "timeout_at": due.isoformat()}, due_at=due, follows=True)
    due = due_or_policy(doc, ctx.record, ctx.now, ctx.tz)
    field = follows_field(doc)
    if due <= ctx.now:
        return StepResult({"until": None if due_for(doc, ctx.record, ctx.now, ctx.tz) is None else due.isoformat(),
                           "waited": False})
    if due == NEVER:
        return StepResult({"until": None, "waiting_for": field}, due_at=due, follows=field is not None)
    return StepResult({"until": due.isoformat()}, due_at=due, follows=field is not None)


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    tz = doc.get("tz")
    if isinstance(tz, str) and tz != "record":
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            yield Problem(f"{ctx.pointer}/tz", "invalid_timezone", f"'{tz}' is not a time zone (use e.g. Asia/Shanghai)")
    hours = doc.get("business_hours")
    if hours and hours["start"] >= hours["end"]:
        yield Problem(f"{ctx.pointer}/business_hours", "empty_window", "business hours must end after they start")
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


register_step(StepType("wait", SCHEMA, run, effect="none", check=check, is_wait=True, kind="wait",
                       edges=lambda d: [("next", d.get("next"))] + ([("on_timeout", d["on_timeout"])]
                                                                   if d.get("on_timeout") else []),
                       label={"en": "Wait", "zh": "等待"}))
