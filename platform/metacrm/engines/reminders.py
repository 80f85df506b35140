"""Task reminders: when an open task's `remind_at` passes, its owner gets one in-app notification.

A periodic task (every worker and the in-process thread run it; flows/jobs.py) looks at open
tasks of the activity object whose reminder fell due in the last day. Exactly once: each
notification carries the key `remind:<object>:<id>:<remind_at>` and the notifications table's
key is unique, so two workers sweeping at once, or a sweep repeated after a crash, insert it once
(insert ... on conflict do nothing). Moving `remind_at` later gives a new reminder. The text is in
the owner's language, the due time in the owner's zone (the installation's when they chose none).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from ..flows.jobs import periodic
from ..flows.tables import notifications
from ..messages import language_of
from ..store.system import users
from ..store.users import user_zone

if TYPE_CHECKING:
    from ..store.services import Services

OBJECT = "activity"
WINDOW = timedelta(days=1)
BATCH = 1000
TEXTS = {"en": ("Reminder: {subject}", "Due {due}"), "zh": ("待办提醒：{subject}", "截止时间 {due}")}


def _key(record_id: int, remind_at: datetime) -> str:
    return f"remind:{OBJECT}:{record_id}:{remind_at.astimezone(UTC).isoformat()}"


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(notifications).values(rows).on_conflict_do_nothing(index_elements=["key"])
    return len(conn.execute(stmt.returning(notifications.c.id)).all())


def due_reminders(services: Services, now: datetime | None = None) -> int:
    """Notify the owners of open tasks whose reminder is due; return how many notifications were new."""
    now = now or datetime.now(UTC)
    snap = services.registry.current()
    obj = snap.objects.get(OBJECT)
    if obj is None or not {"remind_at", "type", "subject"} <= set(obj.fields):
        return 0
    table = snap.tables[OBJECT]
    query = (select(table.c.id, table.c.subject, table.c.remind_at, table.c.due_at, table.c.owner_id, users.c.language,
                    users.c.time_zone)
             .join(users, users.c.id == table.c.owner_id)
             .where(table.c.deleted_at.is_(None), table.c.type == "task", table.c.remind_at <= now,
                    table.c.remind_at > now - WINDOW)
             .order_by(table.c.remind_at).limit(BATCH))
    if "done" in obj.fields:
        query = query.where(table.c.done.is_(None) | table.c.done.is_(False))
    with services.engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return 0
        existing = set(conn.execute(select(notifications.c.key).where(
            notifications.c.key.in_([_key(r.id, r.remind_at) for r in rows]))).scalars())
        new = []
        for r in rows:
            key = _key(r.id, r.remind_at)
            if key in existing:
                continue
            title, body = TEXTS[language_of(r.language)]
            zone = user_zone(r.time_zone, services.settings.timezone)
            due = r.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if r.due_at else "-"
            new.append({"user_id": r.owner_id, "title": title.format(subject=r.subject or "")[:300],
                        "body": body.format(due=due), "object": OBJECT, "record_id": r.id, "run_id": None,
                        "key": key, "created_at": now, "read_at": None})
        return _insert(conn, new) if new else 0


@periodic("tasks.remind", every=30.0)
def sweep_reminders(services: Services) -> int:
    return due_reminders(services)
