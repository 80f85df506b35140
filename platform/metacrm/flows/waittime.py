"""When a wait ends: durations in the record's time zone, 'next 09:00', business hours.

Durations in minutes and hours are absolute (60 minutes are 60 minutes across a DST change);
days, weeks and months keep the local wall-clock time in the wait's zone ("2 days" from Friday
10:00 Berlin is Sunday 10:00 Berlin, whether or not the clocks changed in between). A local time
that does not exist (the spring-forward gap) moves forward by the gap. The zone is the wait's
`tz`: an IANA name, "record" (the record's `timezone` field) or {"field": name}; default the
installation's zone. `business_hours` ({days: ISO weekdays, start, end}) moves a due time
outside the window to the next window's start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .expressions import shift

HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
TZ_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 64},
                       {"type": "object", "required": ["field"], "additionalProperties": False,
                        "properties": {"field": {"type": "string"}}}]}
BUSINESS_HOURS_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["start", "end"],
                         "properties": {"days": {"type": "array", "minItems": 1, "uniqueItems": True,
                                                 "items": {"type": "integer", "minimum": 1, "maximum": 7}},
                                        "start": {"type": "string", "pattern": HHMM},
                                        "end": {"type": "string", "pattern": HHMM}}}


def zone_of(doc: Mapping[str, Any], record: Mapping[str, Any] | None, default: tzinfo) -> tzinfo:
    spec = doc.get("tz")
    if spec is None:
        return default
    name: Any = spec
    if spec == "record" or isinstance(spec, Mapping):
        field = spec["field"] if isinstance(spec, Mapping) else "timezone"
        name = (record or {}).get(field)
    if not name:
        return default
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return default  # a record with a bad zone waits in the installation's zone


def _hm(text: str) -> time:
    hour, minute = (int(x) for x in text.split(":"))
    return time(hour, minute)


def local(day: Any, at: time, zone: tzinfo) -> datetime:
    """The moment of local `at` on `day`; a time in the spring-forward gap moves on by the gap."""
    naive = datetime.combine(day, at)
    moment = naive.replace(tzinfo=zone)
    back = moment.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:  # nonexistent: fold=0 read it with the old offset
        moment = moment.astimezone(UTC).astimezone(zone)
    return moment


def after_duration(now: datetime, duration: Mapping[str, Any], zone: tzinfo) -> datetime:
    if duration.get("unit") in ("minute", "hour"):
        return shift(now.astimezone(UTC), duration)
    moved = shift(now.astimezone(zone), duration)  # wall-clock arithmetic in the zone
    return local(moved.date(), moved.time().replace(tzinfo=None), zone)


def next_at(now: datetime, at: str, zone: tzinfo) -> datetime:
    """The next local `at` (HH:MM) after `now`."""
    here = now.astimezone(zone)
    moment = local(here.date(), _hm(at), zone)
    if moment <= now:
        moment = local(here.date() + timedelta(days=1), _hm(at), zone)
    return moment


def within_business_hours(moment: datetime, hours: Mapping[str, Any], zone: tzinfo) -> datetime:
    """`moment` if inside the window, else the start of the next window."""
    days = set(hours.get("days") or (1, 2, 3, 4, 5))
    start, end = _hm(hours["start"]), _hm(hours["end"])
    here = moment.astimezone(zone)
    for ahead in range(0, 15):
        day = here.date() + timedelta(days=ahead)
        if day.isoweekday() not in days:
            continue
        opens, closes = local(day, start, zone), local(day, end, zone)
        if ahead == 0 and opens <= moment < closes:
            return moment
        if moment < opens:
            return opens
    return moment
