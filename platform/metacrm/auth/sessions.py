"""Session generations and the login limiter.

A session cookie carries its user's generation; logging out everywhere, changing the password and
deactivating the user bump it, so every older cookie stops working at once (the cookie is signed,
not stored, so it cannot be deleted server-side).

Logins are limited per username and per client address: after `max_failures` failed attempts in
`window` seconds, further attempts are refused until the window's oldest failure ages out. The
counters live in Redis when configured (shared by every web process), in the database otherwise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, select

from .principal import Principal, load_principal
from .tables import login_failures, session_generations

SESSION_GENERATION = "gen"
"""The session key holding the user's session generation at login."""

def generation(conn: Connection, user_id: int) -> int:
    found = conn.execute(select(session_generations.c.generation)
                         .where(session_generations.c.user_id == user_id)).scalar()
    return int(found or 0)


def bump_generation(conn: Connection, user_id: int) -> int:
    """End every session of this user (the next request with an older cookie is anonymous)."""
    now = generation(conn, user_id) + 1
    t = session_generations
    if conn.execute(t.update().where(t.c.user_id == user_id).values(generation=now)).rowcount == 0:
        conn.execute(t.insert().values(user_id=user_id, generation=now))
    return now


@dataclass(frozen=True)
class LoginLimits:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 30
    window: float = 900.0


class FailureStore(Protocol):
    def failures(self, key: str, since: float) -> list[float]: ...
    def add(self, key: str, at: float, window: float) -> None: ...
    def clear(self, key: str) -> None: ...


class DatabaseFailures:
    """Failure times in `sys_login_failure` (one row per failed attempt, pruned as they age out)."""

    def __init__(self, engine: Engine, reading: Callable[[Engine], AbstractContextManager[Connection]]) -> None:
        self.engine = engine
        self.reading = reading  # store.db.reading: no write lock on SQLite for the check

    def failures(self, key: str, since: float) -> list[float]:
        with self.reading(self.engine) as conn:
            return sorted(float(a) for a in conn.execute(select(login_failures.c.at).where(
                login_failures.c.key == key, login_failures.c.at > since)).scalars())

    def add(self, key: str, at: float, window: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == key,
                                                      login_failures.c.at <= at - window))
            conn.execute(login_failures.insert().values(key=key, at=at))

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == key))


class RedisFailures:
    """Failure times in a Redis sorted set per key, expiring with the window."""

    def __init__(self, redis: Any, prefix: str = "metacrm:login:") -> None:
        self.redis = redis
        self.prefix = prefix

    def failures(self, key: str, since: float) -> list[float]:
        return sorted(float(s) for _, s in self.redis.zrangebyscore(
            self.prefix + key, f"({since}", "+inf", withscores=True))

    def add(self, key: str, at: float, window: float) -> None:
        name = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(name, "-inf", at - window)
        pipe.zadd(name, {f"{at:.6f}:{time.perf_counter_ns()}": at})
        pipe.expire(name, int(window) + 1)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


class LoginLimiter:
    """Decide whether a login attempt may be tried, and count failures."""

    def __init__(self, store: FailureStore, limits: LoginLimits | None = None) -> None:
        self.store = store
        self.limits = limits or LoginLimits()

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username.lower()[:64]}", self.limits.max_failures_per_user),
                (f"addr:{address[:64]}", self.limits.max_failures_per_address)]

    def retry_after(self, username: str, address: str, now: float | None = None) -> int | None:
        """Seconds to wait before trying again, or None when an attempt is allowed."""
        now = time.time() if now is None else now
        wait = 0.0
        for key, limit in self._keys(username, address):
            seen = self.store.failures(key, now - self.limits.window)
            if len(seen) >= limit:
                wait = max(wait, seen[len(seen) - limit] + self.limits.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, username: str, address: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for key, _ in self._keys(username, address):
            self.store.add(key, now, self.limits.window)

    def succeeded(self, username: str) -> None:
        """A right password clears the username's failures (not the address's: one address may try many names)."""
        self.store.clear(f"user:{username.lower()[:64]}")


def session_principal(conn: Connection, user_id: Any, session_generation: Any) -> Principal | None:
    """The user a session cookie names, if that session is still current (None: log in again)."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    who = load_principal(conn, user_id)
    if who is None or (session_generation or 0) != generation(conn, user_id):
        return None
    return who
