"""Lowering one comparison to primitive conditions, resolving dates against `now` and a time zone.

Both back ends call `lower()` and then only compare values: relative spans, calendar days on
datetime fields and "this month" become fixed UTC instants (or dates) here, computed once, so the
SQL and the in-memory answers cannot drift apart. Only `on_weekday` on a datetime field needs the
zone per row (the SQL side converts with the database, the Python side with zoneinfo).

Primitive conditions are tuples:
  ("cmp", op, v) op in eq ne lt lte gt gte   ("in", values)   ("not_in", values)
  ("contains", lowered)   ("starts_with", lowered)   ("empty",)   ("not_empty",)
  ("has_any", values)   ("has_all", values)   ("weekday", days)   ("and", [...])   ("or", [...])
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Problem, ValidationError
from .model import DayValue, FieldInfo, Relative

Prim = tuple[Any, ...]

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lowercase A-Z only: what SQLite's lower() and PostgreSQL's lower(x COLLATE "C") do."""
    return text.translate(ASCII_LOWER)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone '{name}'", [Problem("tz", "unknown_time_zone", name)]) from None


def zone(tz: str | tzinfo | None) -> tzinfo:
    if tz is None:
        return UTC
    return tz if isinstance(tz, tzinfo) else _zone(tz)


def zone_name(tz: tzinfo) -> str:
    return "UTC" if tz is UTC else str(getattr(tz, "key", tz))


def resolve_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def add_months(value: Any, months: int) -> Any:
    """The same day `months` later (clamped to the month's last day); works on dates and datetimes."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _shift(value: Any, span: Relative, sign: int) -> Any:
    if span.unit == "month":
        return add_months(value, sign * span.amount)
    days = span.amount * (7 if span.unit == "week" else 1)
    return value + timedelta(days=sign * days)


def day_start(day: date, tz: tzinfo) -> datetime:
    """The UTC instant the local day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _day_range(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def _month_range(now: datetime, tz: tzinfo, as_dates: bool) -> tuple[Any, Any]:
    today = now.astimezone(tz).date()
    first = today.replace(day=1)
    following = add_months(first, 1)
    if as_dates:
        return first, following
    return day_start(first, tz), day_start(following, tz)


def _between(lo: Any, hi: Any) -> Prim:
    return ("and", [("cmp", "gte", lo), ("cmp", "lte", hi)])


def lower(info: FieldInfo, op: str, value: Any, now: datetime, tz: tzinfo) -> Prim:
    """The primitive condition `op value` stands for on this field, at `now` in zone `tz`."""
    if op in ("is_empty", "is_not_empty"):
        return ("empty",) if op == "is_empty" else ("not_empty",)
    if op in ("contains", "starts_with"):
        return (op, ascii_lower(value))
    if op in ("has_any", "has_all", "in", "not_in"):
        if not value:  # an empty multi-select in a UI: nothing is in [], everything is outside it
            return ("const", op in ("not_in", "has_all"))
        return (op, value)
    if op == "on_weekday":
        return ("weekday", value)
    if info.kind == "datetime":
        return _lower_datetime(op, value, now, tz)
    if info.kind == "date":
        return _lower_date(op, value, now, tz)
    if op == "between":
        return _between(*value)
    return ("cmp", op, value)


def _lower_date(op: str, value: Any, now: datetime, tz: tzinfo) -> Prim:
    if op == "before":
        return ("cmp", "lt", value)
    if op == "after":
        return ("cmp", "gt", value)
    if op == "between":
        return _between(*value)
    today = now.astimezone(tz).date()
    if op == "within_last":
        return _between(_shift(today, value, -1), today)
    if op == "within_next":
        return _between(today, _shift(today, value, 1))
    if op == "this_month":
        first, following = _month_range(now, tz, as_dates=True)
        return ("and", [("cmp", "gte", first), ("cmp", "lt", following)])
    return ("cmp", op, value)


def _lower_datetime(op: str, value: Any, now: datetime, tz: tzinfo) -> Prim:
    if op in ("within_last", "within_next"):
        local = now.astimezone(tz)
        other = _shift(local, value, -1 if op == "within_last" else 1).astimezone(UTC)
        return _between(other, now) if op == "within_last" else _between(now, other)
    if op == "this_month":
        start, end = _month_range(now, tz, as_dates=False)
        return ("and", [("cmp", "gte", start), ("cmp", "lt", end)])
    if op == "between":
        lo, hi = value
        low = ("cmp", "gte", day_start(lo.day, tz) if isinstance(lo, DayValue) else lo)
        high = (("cmp", "lt", _day_range(hi.day, tz)[1]) if isinstance(hi, DayValue) else ("cmp", "lte", hi))
        return ("and", [low, high])
    if op == "before":
        op = "lt"
    elif op == "after":
        op = "gt"
    if not isinstance(value, DayValue):
        return ("cmp", op, value)
    start, end = _day_range(value.day, tz)
    if op == "eq":
        return ("and", [("cmp", "gte", start), ("cmp", "lt", end)])
    if op == "ne":
        return ("or", [("cmp", "lt", start), ("cmp", "gte", end)])
    return {"lt": ("cmp", "lt", start), "lte": ("cmp", "lt", end),
            "gt": ("cmp", "gte", end), "gte": ("cmp", "gte", start)}[op]


def is_relative(op: str) -> bool:
    return op in ("within_last", "within_next", "this_month")
