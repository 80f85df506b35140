"""The minimal user directory records point at (owner, creator). Accounts and login are in auth."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import Connection, select

from ..errors import Problem, ValidationError
from ..meta.names import is_identifier
from .system import users


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def check_time_zone(value: Any, field: str = "time_zone") -> str | None:
    """An IANA zone name as given ('Asia/Shanghai'), None for none (null or ''); else a 422 naming `field`."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64 or value not in _zones():
        shown = str(value)[:64]
        raise ValidationError(f"'{shown}' is not a time zone (use an IANA name such as Asia/Shanghai)",
                              [Problem(field, "unknown_time_zone", f"'{shown}' is not a time zone, e.g. Asia/Shanghai")])
    return value


def user_zone(name: str | None, default: str) -> tzinfo:
    """The zone a user's times are shown in: theirs, else `default` (the installation's); UTC if neither is known."""
    for candidate in (name, default):
        if candidate and candidate in _zones():
            return ZoneInfo(candidate)
    return UTC


def ensure_user(conn: Connection, username: str, display_name: str = "", email: str | None = None,
                language: str = "en", time_zone: str | None = None) -> int:
    """The id of the user with this username, created if missing (idempotent)."""
    if not is_identifier(username.replace(".", "_").replace("-", "_")):
        raise ValidationError("invalid username", [Problem("username", "pattern",
                              "use lowercase letters, digits, '.', '-' and '_', starting with a letter")])
    found = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(users.insert().values(
        username=username, display_name=display_name or username, email=email, language=language,
        time_zone=check_time_zone(time_zone), active=True, created_at=datetime.now(UTC)).returning(users.c.id)).scalar_one())


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(users).order_by(users.c.id))]
