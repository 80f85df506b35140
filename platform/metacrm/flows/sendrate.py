"""Per-channel send rate limits (METACRM_SEND_RATE), enforced across every worker through SQL.

The limit belongs to the channel, not to a workflow: what it protects is the provider account
and the sender's reputation (an SMTP relay's hourly quota, an SMS gateway's messages per second,
ISPs throttling a new sending domain), which every campaign shares. Fixed windows are counted in
`wf_counter` rows keyed `rate:<channel>:<window start>`: a delivery takes a slot with one
conditional UPDATE in its claim's transaction, so two workers never take the last slot twice, and a
delivery that finds the window full goes back to `pending` for the window's end (deferred, not
failed, its attempt not counted). At a window's edge up to twice the limit can go out within one
window's length; that is the usual price of fixed windows, and quotas are set with that margin.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .tables import counters

if TYPE_CHECKING:
    from ..config import Settings


def rate_for(settings: Settings, channel: str) -> tuple[int, int] | None:
    """(messages, window seconds) for the channel, or None: no limit."""
    for name, count, seconds in settings.send_rates:
        if name == channel:
            return count, seconds
    return None


def _window(channel: str, seconds: int, now: datetime) -> tuple[str, datetime]:
    """The counter key of the window holding `now`, and when the next window opens."""
    start = int(now.timestamp()) // seconds * seconds
    return f"rate:{channel}:{start:012d}", datetime.fromtimestamp(start + seconds, UTC)


def take_slot(conn: Connection, channel: str, rate: tuple[int, int], now: datetime) -> datetime | None:
    """Take one send in the current window: None if taken, else when the next window opens."""
    limit, seconds = rate
    key, opens = _window(channel, seconds, now)
    bump = update(counters).where(counters.c.key == key, counters.c.value < limit).values(value=counters.c.value + 1)
    if conn.execute(bump).rowcount == 1:
        return None
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    created = insert(counters).values(key=key, value=1).on_conflict_do_nothing().returning(counters.c.key)
    if conn.execute(created).first() is not None:  # (rowcount is -1 here on psycopg)
        prefix = f"rate:{channel}:"  # the first send of a window clears the windows before it
        conn.execute(delete(counters).where(counters.c.key.startswith(prefix, autoescape=True), counters.c.key < key))
        return None
    # Another worker created the window's row meanwhile (PostgreSQL waited for it): count again.
    return None if conn.execute(bump).rowcount == 1 else opens


def room(conn: Connection, channel: str, rate: tuple[int, int], now: datetime) -> int:
    """How many more sends the current window allows (the sweeper hands out no more than that)."""
    limit, seconds = rate
    key, _ = _window(channel, seconds, now)
    used = conn.execute(select(counters.c.value).where(counters.c.key == key)).scalar_one_or_none()
    return max(0, limit - int(used or 0))

