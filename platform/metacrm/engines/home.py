"""A user's day ("home"): their leads due for follow-up, open opportunities by stage, tasks due
today or overdue, and unread notifications.

It reads the standard pack's conventions (lead.next_follow_up and status, opportunity.stage and
amount, activity.type = 'task' with due_at and done); an installation without one of those
objects or fields gets an empty section, never an error. Every section lists the caller's own
records only, through the same scope as lists (a user without read on an object sees nothing).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from ..auth.principal import Principal
from ..flows.tables import notifications
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot
from .titles import describe_rows, scoped, title_select, titles

CLOSED_LEAD_STATUSES = ("converted", "unqualified")
CLOSED_STAGES = ("won", "lost")
TASK_RELATIONS = ("lead", "opportunity", "customer", "account")
LIMIT = 20


def _usable(snap: Snapshot, who: Principal, name: str, fields: tuple[str, ...]) -> ObjectDef | None:
    obj = snap.objects.get(name)
    if obj is None or not who.permission(name).read:
        return None
    perm = who.permission(name)
    if any(f not in obj.fields or f in perm.hidden for f in fields):
        return None
    return obj


def leads_due(conn: Connection, snap: Snapshot, who: Principal, today: date) -> list[dict[str, Any]]:
    obj = _usable(snap, who, "lead", ("next_follow_up",))
    if obj is None:
        return []
    perm, table = who.permission("lead"), snap.tables["lead"]
    due = table.c.next_follow_up
    query = title_select(obj, table, perm).add_columns(due.label("_due")).where(
        *scoped(obj, table, who), table.c.owner_id == who.id, due.is_not(None), due <= today)
    if "status" in obj.fields and "status" not in perm.hidden:
        query = query.where(table.c.status.is_(None) | table.c.status.not_in(CLOSED_LEAD_STATUSES))
    rows = [r._mapping for r in conn.execute(query.order_by(due, table.c.id).limit(LIMIT))]
    described = describe_rows(obj, perm, rows)
    return [{"id": int(r["id"]), **described[int(r["id"])], "due_at": obj.fields["next_follow_up"].shown(r["_due"])}
            for r in rows]


def opportunities_by_stage(conn: Connection, snap: Snapshot, who: Principal) -> list[dict[str, Any]]:
    obj = _usable(snap, who, "opportunity", ("stage",))
    if obj is None:
        return []
    perm, table = who.permission("opportunity"), snap.tables["opportunity"]
    has_amount = "amount" in obj.fields and "amount" not in perm.hidden
    amount = func.sum(table.c.amount) if has_amount else func.count()
    rows = conn.execute(select(table.c.stage, func.count(), amount).where(
        *scoped(obj, table, who), table.c.owner_id == who.id, table.c.stage.is_not(None),
        table.c.stage.not_in(CLOSED_STAGES)).group_by(table.c.stage)).all()
    found = {r[0]: (int(r[1]), r[2]) for r in rows}
    field = obj.fields["stage"]
    labels = field.schema.get("x-option-labels") or {}
    out = []
    for stage in [s for s in field.options if s not in CLOSED_STAGES]:
        count, total = found.get(stage, (0, None))
        shown = None
        if has_amount:
            shown = str(Decimal(str(total or 0)).quantize(Decimal("0.01")))
        out.append({"stage": stage, "label": dict(labels.get(stage) or {"en": str(stage)}), "count": count,
                    "amount": shown})
    return out


def tasks(conn: Connection, snap: Snapshot, who: Principal, start: datetime, end: datetime) -> dict[str, Any]:
    """Open tasks of the caller: overdue (due before `start`) and today (`start` <= due < `end`)."""
    obj = _usable(snap, who, "activity", ("type", "due_at"))
    if obj is None:
        return {"overdue": [], "today": []}
    perm, table = who.permission("activity"), snap.tables["activity"]
    relations = [n for n in TASK_RELATIONS if n in obj.fields and n not in perm.hidden]
    query = title_select(obj, table, perm).add_columns(table.c.due_at.label("_due"),
                                                       *(table.c[n] for n in relations)).where(
        *scoped(obj, table, who), table.c.owner_id == who.id, table.c.type == "task",
        table.c.due_at.is_not(None), table.c.due_at < end)
    if "done" in obj.fields:
        query = query.where(table.c.done.is_(None) | table.c.done.is_(False))
    out: dict[str, list[dict[str, Any]]] = {"overdue": [], "today": []}
    for part, cond in (("overdue", table.c.due_at < start), ("today", table.c.due_at >= start)):
        rows = [r._mapping for r in conn.execute(query.where(cond).order_by(table.c.due_at, table.c.id).limit(LIMIT))]
        described = describe_rows(obj, perm, rows)
        wanted: dict[str, set[int]] = {}
        for r in rows:
            for n in relations:
                if r[n] is not None:
                    wanted.setdefault(obj.fields[n].target or n, set()).add(int(r[n]))
                    break
        names = {target: titles(conn, snap, who, target, sorted(ids)) for target, ids in wanted.items()}
        for r in rows:
            record = None
            for n in relations:
                target = obj.fields[n].target or n
                if r[n] is not None:
                    found = names.get(target, {}).get(int(r[n]))
                    record = {"object": target, "id": int(r[n]), "title": found["title"]} if found else None
                    break
            out[part].append({"id": int(r["id"]), "title": described[int(r["id"])]["title"],
                              "due_at": obj.fields["due_at"].shown(r["_due"]), "record": record})
    return out


def unread_notifications(conn: Connection, who: Principal) -> int:
    return int(conn.execute(select(func.count()).select_from(notifications).where(
        notifications.c.user_id == who.id, notifications.c.read_at.is_(None))).scalar_one())


def home(conn: Connection, snap: Snapshot, who: Principal, tz: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), zone).astimezone(UTC)
    return {"leads_due": leads_due(conn, snap, who, today),
            "opportunities_by_stage": opportunities_by_stage(conn, snap, who),
            "tasks": tasks(conn, snap, who, start, start + timedelta(days=1)),
            "unread_notifications": unread_notifications(conn, who)}
