"""Failures that reach someone: an hourly alert per failing workflow and a daily digest.

Every minute (a periodic task in every worker) each workflow with runs that failed in the
current hour (not closed) notifies its `owner` (a user name in the definition), or every active
administrator without one: once per workflow per hour (the notification key holds the hour), with
the count and the first error. Once a day, after 08:00 in their own zone (the installation's when
they chose none), administrators get a digest naming every workflow with failed runs in the last 24
hours. The keys make both exactly-once across workers and restarts. Texts are in the reader's
language (messages.language_of), workflows named by their label in it, times in the reader's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Row, func, select

from ..messages import language_of
from ..store.system import users
from ..store.users import user_zone
from .jobs import periodic
from .runs import utcnow
from .tables import RunStatus, notifications, runs

if TYPE_CHECKING:
    from ..store.services import Services

DIGEST_HOUR = 8
TEXTS = {
    "en": {"alert": "Workflow {label}: {count} failed run(s) since {since}",
           "first": "First error (run {run}): {message}",
           "digest": "Failing workflows ({count})", "line": "{label}: {count} failed"},
    "zh": {"alert": "工作流「{label}」：{since} 起有 {count} 次运行失败",
           "first": "首个错误（运行 {run}）：{message}",
           "digest": "运行失败的工作流（{count} 个）", "line": "{label}：失败 {count} 次"},
}


class Reader(NamedTuple):
    id: int
    language: str
    time_zone: str | None


def _reader(row: Row[Any]) -> Reader:
    return Reader(int(row.id), language_of(row.language), row.time_zone)


def _label(doc: Mapping[str, Any], name: str, language: str) -> str:
    label = doc.get("label")
    if isinstance(label, Mapping):
        return str(label.get(language) or label.get("en") or name)
    return name


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


READER = select(users.c.id, users.c.language, users.c.time_zone).where(users.c.active.is_(True))


def _admins(conn: Connection) -> list[Reader]:
    return [_reader(r) for r in conn.execute(READER.where(users.c.is_admin.is_(True)).order_by(users.c.id))]


def _recipients(conn: Connection, doc: Mapping[str, Any]) -> list[Reader]:
    owner = doc.get("owner")
    if owner:
        found = conn.execute(READER.where(users.c.username == owner)).first()
        if found is not None:
            return [_reader(found)]
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
    default_zone = services.settings.timezone
    with services.engine.begin() as conn:
        workflows = services.registry.current(conn).definitions
        for name, (count, error, first) in _failed_since(conn, hour).items():
            message = (error or {}).get("message", "") if isinstance(error, dict) else str(error or "")
            doc = workflows.get("workflow", name) or {}
            for who in _recipients(conn, doc):
                text = TEXTS[who.language]
                since = hour.astimezone(user_zone(who.time_zone, default_zone)).strftime("%H:%M")
                sent += _notify(conn, who.id, f"wf-alert:{name}:{hour:%Y%m%dT%H}:{who.id}",
                                text["alert"].format(label=_label(doc, name, who.language), count=count, since=since),
                                text["first"].format(run=first, message=message)[:2000], now, first)
        failing: dict[str, tuple[int, Any, int]] | None = None
        for who in _admins(conn):
            local = now.astimezone(user_zone(who.time_zone, default_zone))
            if local.hour < DIGEST_HOUR:
                continue
            failing = _failed_since(conn, now - timedelta(days=1)) if failing is None else failing
            if not failing:
                break
            text = TEXTS[who.language]
            lines = [text["line"].format(label=_label(workflows.get("workflow", n) or {}, n, who.language), count=c)
                     for n, (c, _e, _f) in sorted(failing.items())]
            sent += _notify(conn, who.id, f"wf-digest:{local:%Y%m%d}:{who.id}",
                            text["digest"].format(count=len(failing)), "\n".join(lines), now)
    return sent


@periodic("workflows.alerts", every=60.0)
def alerts(services: Services) -> int:
    return send_alerts(services)
