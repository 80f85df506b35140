"""The minimal user directory records point at (owner, creator). Accounts and login are in auth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ..errors import Problem, ValidationError
from ..meta.names import is_identifier
from .system import users


def ensure_user(conn: Connection, username: str, display_name: str = "", email: str | None = None,
                language: str = "en") -> int:
    """The id of the user with this username, created if missing (idempotent)."""
    if not is_identifier(username.replace(".", "_").replace("-", "_")):
        raise ValidationError("invalid username", [Problem("username", "pattern",
                              "use lowercase letters, digits, '.', '-' and '_', starting with a letter")])
    found = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(users.insert().values(
        username=username, display_name=display_name or username, email=email, language=language,
        active=True, created_at=datetime.now(UTC)).returning(users.c.id)).scalar_one())


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(users).order_by(users.c.id))]
