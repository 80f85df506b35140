"""API tokens for integrators: shown once, stored as a SHA-256 digest, named, revocable.

Tokens are 256 random bits, so a fast digest is enough (no password stretching needed), and the
lookup is one indexed read. `last_used_at` is written at most once a minute per token, so a busy
integration does not turn every read into a write.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from ..errors import NotFound, Problem, ValidationError
from .tables import api_tokens, users

TOKEN_PREFIX = "mcrm_"
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(conn: Connection, user_id: int, name: str) -> tuple[int, str]:
    """(token id, the token itself): the plain token is returned here only, never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("a token needs a name", [Problem("name", "length", "use 1 to 100 characters")])
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(api_tokens.insert().values(
        user_id=user_id, name=name, prefix=token[:12], token_hash=digest(token),
        created_at=datetime.now(UTC), revoked=False).returning(api_tokens.c.id)).scalar_one()
    return int(token_id), token


def token_owner(conn: Connection, token: str) -> tuple[int, int, bool] | None:
    """(user id, token id, whether `last_used_at` is due a write) for a live token of an active
    user, or None. Only reads: the caller writes the touch (`touch_token`) in its own transaction
    when due, so a token-authenticated read takes no write lock (SQLite)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    t = api_tokens
    row = conn.execute(select(t.c.id, t.c.user_id, t.c.last_used_at)
                       .select_from(t.join(users, users.c.id == t.c.user_id))
                       .where(t.c.token_hash == digest(token), t.c.revoked.is_(False),
                              users.c.active.is_(True))).first()
    if row is None:
        return None
    due = row.last_used_at is None or datetime.now(UTC) - row.last_used_at > TOUCH_EVERY
    return int(row.user_id), int(row.id), due


def touch_token(conn: Connection, token_id: int) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=datetime.now(UTC)))


def user_for_token(conn: Connection, token: str) -> int | None:
    """The active user a live token belongs to (and note its use), or None."""
    found = token_owner(conn, token)
    if found is None:
        return None
    if found[2]:
        touch_token(conn, found[1])
    return found[0]


def list_tokens(conn: Connection, user_id: int | None = None) -> list[dict[str, Any]]:
    t = api_tokens
    query = select(t.c.id, t.c.user_id, t.c.name, t.c.prefix, t.c.created_at, t.c.last_used_at,
                   t.c.revoked, t.c.revoked_at).order_by(t.c.id)
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def revoke_token(conn: Connection, token_id: int, user_id: int | None = None) -> None:
    """Revoke a token (of `user_id` when given: users revoke only their own)."""
    t = api_tokens
    query = update(t).where(t.c.id == token_id)
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    if conn.execute(query.values(revoked=True, revoked_at=datetime.now(UTC))).rowcount == 0:
        raise NotFound(f"no token {token_id}", [Problem("id", "not_found", str(token_id))])
