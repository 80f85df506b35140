"""Calendar periods of limits counters: the key of the day, ISO week, month or year holding a moment in
a time zone (DST-safe), and when that period ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .limit_tables import NO_PERIOD


def utcnow() -> datetime:
    return datetime.now(UTC)


def period_key(period: str, now: datetime | None = None, tz: str = "UTC") -> tuple[str, datetime | None]:
    """The key of the calendar period (day | week | month | year | lifetime) holding `now` in `tz`,
    and when it ends. Weeks are ISO weeks (Monday to Sunday, key "2026-W49")."""
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(tz))
    if period == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=1, hours=2)).replace(hour=0)  # DST-safe next midnight
        return local.strftime("%Y-%m-%d"), end.astimezone(UTC)
    if period == "week":
        monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        end = (monday + timedelta(days=7, hours=2)).replace(hour=0)
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}", end.astimezone(UTC)
    if period == "year":
        end = local.replace(year=local.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return local.strftime("%Y"), end.astimezone(UTC)
    if period == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        return local.strftime("%Y-%m"), end.astimezone(UTC)
    if period == "lifetime":
        return NO_PERIOD, None
    raise ValueError(f"unknown period {period!r}")
