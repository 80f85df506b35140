"""Failures that reach someone: an hourly alert per failing workflow and a daily digest.

Every minute (a periodic task in every worker) each workflow with runs that failed in the
current hour (not closed) notifies its `owner` (a user name in the definition), or every active
administrator without one: once per workflow per hour (the notification key holds the hour), with
the count and the first error. Once a day, after 08:00 in the installation's zone, administrators
get a digest naming every workflow with failed runs in the last 24 hours. The keys make both
exactly-once across workers and restarts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from ..store.system import users
from .jobs import periodic
from .runs import utcnow
from .tables import RunStatus, notifications, runs

if TYPE_CHECKING:
    from ..store.services import Services

DIGEST_HOUR = 8


def _failed_since(conn: Connection, since: datetime) -> dict[str, tuple[int, Any, int]]:
    """workflow -> (failed runs, the first one's error, its id) since `since`, closed runs left out."""
    out: dict[str, tuple[int, Any, int]] = {}
    query = (select(runs.c.workflow, func.count(), func.min(runs.c.id))
             .where(runs.c.status == RunStatus.FAILED, runs.c.finished_at >= since,
                    (runs.c.outcome.is_(None)) | (runs.c.outcome != "closed"))
             .group_by(runs.c.workflow))
    for name, count, first in conn.execute(query):
        error = conn.execute(select(runs.c.error).where(runs.c.id == first)).scalar()
        out[str(name)] = (int(count), error, int(first))
    return out


def _admins(conn: Connection) -> list[int]:
    return [int(i) for i in conn.execute(select(users.c.id).where(users.c.is_admin.is_(True),
                                                                  users.c.active.is_(True))).scalars()]


def _recipients(conn: Connection, services: Services, name: str) -> list[int]:
    doc = services.registry.current(conn).definitions.get("workflow", name) or {}
    owner = doc.get("owner")
    if owner:
        found = conn.execute(select(users.c.id).where(users.c.username == owner, users.c.active.is_(True))).scalar()
        if found is not None:
            return [int(found)]
    return _admins(conn)


def _notify(conn: Connection, user_id: int, key: str, title: str, body: str, now: datetime,
            run_id: int | None = None) -> bool:
    if conn.execute(select(notifications.c.id).where(notifications.c.key == key)).first() is not None:
        return False
    conn.execute(notifications.insert().values(user_id=user_id, title=title[:300], body=body, run_id=run_id,
                                               key=key, created_at=now))
    return True


def send_alerts(services: Services, now: datetime | None = None) -> int:
    """Hourly failure alerts and the daily digest; returns how many notifications were written."""
    now = now or utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    sent = 0
    with services.engine.begin() as conn:
        for name, (count, error, first) in _failed_since(conn, hour).items():
            message = (error or {}).get("message", "") if isinstance(error, dict) else str(error or "")
            for user_id in _recipients(conn, services, name):
                sent += _notify(conn, user_id, f"wf-alert:{name}:{hour:%Y%m%dT%H}:{user_id}",
                                f"Workflow {name}: {count} failed run(s) this hour",
                                f"First error (run {first}): {message}"[:2000], now, first)
        local = now.astimezone(ZoneInfo(services.settings.timezone))
        if local.hour >= DIGEST_HOUR:
            failing = _failed_since(conn, now - timedelta(days=1))
            if failing:
                lines = [f"{n}: {c} failed" for n, (c, _e, _f) in sorted(failing.items())]
                for user_id in _admins(conn):
                    sent += _notify(conn, user_id, f"wf-digest:{local:%Y%m%d}:{user_id}",
                                    f"Failing workflows ({len(failing)})", "\n".join(lines), now)
    return sent


@periodic("workflows.alerts", every=60.0)
def alerts(services: Services) -> int:
    return send_alerts(services)
