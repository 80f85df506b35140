"""The shared lead pool (公海 / 线索池), kind `lead_pool`.

A pool is the unowned records of an object that match its rule (a region, a source), browsed and
claimed by its teams' reps. A claim, in one transaction: the rep's hold counter (records held
from this pool, cap `hold_limit`) and daily claim counter (cap `daily_claim_cap`, a period per
local day) move on the limits ledger, the record gets its owner through the record service with
the version it was read at, and `sys_pool_hold` remembers the claim. Two reps claiming one record
at once: the second save finds a newer version and is refused (409 `already_claimed`), and its
counter moves roll back with it. A release, or the daily return of records without follow-up for
`return_after_days` (warned `warn_days_before` earlier), clears the owner and gives the hold back.
Claims, releases, returns and warnings are timeline events with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Index,
    String,
    Table,
    delete,
    func,
    select,
)

from ..auth.tables import team_members, teams
from ..errors import Conflict, NotFound, PermissionDenied, Problem
from ..flows.tables import notifications
from ..messages import language_of
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..meta.sqltypes import UTCDateTime
from ..rules import to_sql, validate_rule
from ..store import limits
from ..store.definitions import Snapshot
from ..store.events import RecordEvent, append_events
from ..store.records import RecordService
from ..store.system import metadata, users
from ..store.users import user_zone

NAME = String(48)

holds = Table(
    "sys_pool_hold", metadata,
    Column("object", NAME, primary_key=True),
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("pool", NAME, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("warned_at", UTCDateTime(), nullable=True),
    Index("ix_sys_pool_hold_user", "pool", "user_id"),
)


def check_pool(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    if defs.get("object", doc["object"]) is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    if "when" in doc:
        for p in validate_rule(doc["when"], doc["object"], defs):
            yield Problem("/when" + ("" if p.field == "/" else p.field), p.code, p.message)
    follow = doc.get("follow_up")
    if follow:
        target = defs.get("object", follow["object"])
        spec = (target or {}).get("properties", {}).get(follow["via"])
        if target is None:
            yield Problem("/follow_up/object", "unknown_object", f"no object named '{follow['object']}'")
        elif spec is None or spec.get("x-field") != "relation" or spec.get("x-target") != doc["object"]:
            yield Problem("/follow_up/via", "wrong_type", f"'{follow['via']}' must be a relation to {doc['object']}")


register_kind(Kind("lead_pool", "lead_pools", check=check_pool, refers_to=("object", "tag")))


def pool(snap: Snapshot, name: str) -> dict[str, Any]:
    doc = snap.definitions.get("lead_pool", name)
    if doc is None or doc["object"] not in snap.objects:
        raise NotFound(f"no lead pool named '{name[:64]}'", [Problem("pool", "not_found", name[:64])])
    return doc


def is_member(conn: Connection, doc: Mapping[str, Any], user_id: int) -> bool:
    if not doc.get("teams"):
        return True
    found = conn.execute(select(team_members.c.user_id).join(teams, teams.c.id == team_members.c.team_id)
                         .where(teams.c.name.in_(doc["teams"]), team_members.c.user_id == user_id).limit(1)).first()
    return found is not None


def in_pool(snap: Snapshot, doc: Mapping[str, Any], tz: str = "UTC") -> list[ColumnElement[bool]]:
    """Conditions selecting the pool's records: live, unowned, matching the pool's rule."""
    table = snap.tables[doc["object"]]
    where = [table.c.deleted_at.is_(None), table.c.owner_id.is_(None)]
    if "when" in doc:
        where.append(to_sql(doc["when"], doc["object"], snap, tz=tz))
    return where


def _keys(doc: Mapping[str, Any], user_id: int, now: datetime, tz: str) -> tuple[str, str, str, datetime | None]:
    day, resets = limits.period_key("day", now, tz)
    return f"pool:hold:{doc['name']}:{user_id}", f"pool:claim:{doc['name']}:{user_id}", day, resets


def quota(conn: Connection, doc: Mapping[str, Any], user_id: int, tz: str = "UTC") -> dict[str, Any]:
    """What a rep has left: holds and today's claims, with when the daily cap resets."""
    hold_key, claim_key, day, resets = _keys(doc, user_id, datetime.now(UTC), tz)
    held = limits.counter(conn, hold_key)
    claimed = limits.counter(conn, claim_key, day)
    held_n, claimed_n = (int(held["used"]) if held else 0), (int(claimed["used"]) if claimed else 0)
    hold_limit, cap = doc.get("hold_limit"), doc.get("daily_claim_cap")
    return {"held": held_n, "hold_limit": hold_limit,
            "hold_left": None if hold_limit is None else max(0, hold_limit - held_n),
            "claimed_today": claimed_n, "daily_claim_cap": cap,
            "claims_left_today": None if cap is None else max(0, cap - claimed_n),
            "resets_at": resets.isoformat().replace("+00:00", "Z") if resets else None}


def _event(conn: Connection, doc: Mapping[str, Any], record_id: int, kind: str, actor_id: int | None,
           reason: str, now: datetime, **extra: Any) -> None:
    append_events(conn, [RecordEvent(doc["object"], record_id, kind, {"before": {}, "after": {}}, actor_id, now,
                                     {"pool": doc["name"], "reason": reason, **extra})])


def claim(conn: Connection, records: RecordService, snap: Snapshot, doc: Mapping[str, Any], record_id: int,
          user_id: int, tz: str = "UTC") -> dict[str, Any]:
    """Give a pool record to the rep, within their hold limit and daily cap; exactly one of two rivals wins."""
    table = snap.tables[doc["object"]]
    row = conn.execute(select(table.c.id, table.c.version).where(table.c.id == record_id, *in_pool(snap, doc, tz))
                       ).first()
    if row is None:
        raise Conflict(f"{doc['object']} {record_id} is not in pool {doc['name']} (claimed already, or never there)",
                       [Problem("record_id", "already_claimed", str(record_id))], code="already_claimed")
    now = datetime.now(UTC)
    hold_key, claim_key, day, resets = _keys(doc, user_id, now, tz)
    moves = [limits.Move(hold_key, 1, cap=doc.get("hold_limit"), label="hold_limit"),
             limits.Move(claim_key, 1, day, doc.get("daily_claim_cap"), label="daily_claim_cap", resets_at=resets)]
    limits.take_many(conn, moves, ref=f"{doc['object']}:{record_id}")
    try:
        record = records.update(doc["object"], record_id, {"owner_id": user_id}, expected_version=row.version,
                                actor_id=user_id, conn=conn)
    except Conflict:
        raise Conflict(f"{doc['object']} {record_id} was claimed by someone else",
                       [Problem("record_id", "already_claimed", str(record_id))], code="already_claimed") from None
    conn.execute(holds.insert().values(object=doc["object"], record_id=record_id, pool=doc["name"], user_id=user_id,
                                       claimed_at=now))
    _event(conn, doc, record_id, "pool_claimed", user_id, "claimed", now)
    return record


def _give_back(conn: Connection, records: RecordService, doc: Mapping[str, Any], record_id: int,
               actor_id: int | None, kind: str, reason: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    hold = conn.execute(delete(holds).where(holds.c.object == doc["object"], holds.c.record_id == record_id)
                        .returning(holds.c.user_id, holds.c.pool)).first()
    record = records.update(doc["object"], record_id, {"owner_id": None}, actor_id=actor_id, conn=conn)
    if hold is not None:
        with_pool = {**doc, "name": hold.pool}
        limits.reverse(conn, _keys(with_pool, int(hold.user_id), now, "UTC")[0], 1, ref=f"{doc['object']}:{record_id}")
    _event(conn, doc, record_id, kind, actor_id, reason, now)
    return record


def release(conn: Connection, records: RecordService, snap: Snapshot, doc: Mapping[str, Any], record_id: int,
            actor_id: int, reason: str, may_release_others: bool = False) -> dict[str, Any]:
    """The holder (or a manager allowed to) puts the record back in the pool, with a reason."""
    table = snap.tables[doc["object"]]
    owner = conn.execute(select(table.c.owner_id).where(table.c.id == record_id, table.c.deleted_at.is_(None))
                         ).first()
    if owner is None:
        raise NotFound(f"{doc['object']} {record_id} does not exist", [Problem("record_id", "not_found", str(record_id))])
    if owner.owner_id is None:
        raise Conflict("the record is already in the pool", [Problem("record_id", "not_owned", str(record_id))],
                       code="not_owned")
    if owner.owner_id != actor_id and not may_release_others:
        raise PermissionDenied("only its owner may release a record", [Problem("record_id", "not_yours", "")])
    return _give_back(conn, records, doc, record_id, actor_id, "pool_released", reason)


def _last_follow_up(snap: Snapshot, doc: Mapping[str, Any]) -> Any:
    follow = doc.get("follow_up") or {"object": "activity", "via": "lead"}
    target = snap.tables.get(follow["object"])
    if target is None or follow["via"] not in target.c:
        return None
    return (select(func.max(target.c.created_at)).where(target.c[follow["via"]] == holds.c.record_id,
                                                        target.c.deleted_at.is_(None)).scalar_subquery())


WARNING = {"en": "{title} goes back to {pool} on {due} unless you follow it up",
           "zh": "{title} 将于 {due} 退回{pool}，请及时跟进"}


def _warning_title(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], record_id: int, user_id: int,
                   due: datetime, tz: str) -> str:
    """The holder's warning in their language, naming the record by its title and the due time in their
    zone (the installation's, `tz`, when they chose none)."""
    holder = conn.execute(select(users.c.language, users.c.time_zone).where(users.c.id == user_id)).first()
    lang = language_of(holder.language if holder is not None else None)
    obj, table = snap.objects[doc["object"]], snap.tables[doc["object"]]
    title_field = getattr(obj, "title_field", None)
    title = None
    if title_field and title_field in table.c:
        title = conn.execute(select(table.c[title_field]).where(table.c.id == record_id)).scalar()
    label = doc.get("label") or {}
    pool = label.get(lang) or label.get("en") or doc["name"] if isinstance(label, Mapping) else doc["name"]
    local = due.astimezone(user_zone(holder.time_zone if holder is not None else None, tz)).strftime("%Y-%m-%d %H:%M")
    return WARNING[lang].format(title=title or f"#{record_id}", pool=pool, due=local)[:300]


def returns(conn: Connection, records: RecordService, snap: Snapshot, now: datetime | None = None,
            tz: str = "UTC") -> dict[str, int]:
    """Return held records without follow-up for N days; warn their holders the days before."""
    now = now or datetime.now(UTC)
    done = {"returned": 0, "warned": 0}
    for _, doc in sorted(snap.definitions.items("lead_pool")):
        days = doc.get("return_after_days")
        if not days or doc["object"] not in snap.objects:
            continue
        last = _last_follow_up(snap, doc)
        since = func.coalesce(last, holds.c.claimed_at) if last is not None else holds.c.claimed_at
        base = select(holds.c.record_id, holds.c.user_id, holds.c.warned_at, since.label("since")).where(
            holds.c.pool == doc["name"], holds.c.object == doc["object"])
        for rid, uid, warned, since_at in conn.execute(base).all():
            since_at = since_at.replace(tzinfo=UTC) if since_at.tzinfo is None else since_at
            due = since_at + timedelta(days=days)
            if due <= now:
                _give_back(conn, records, doc, rid, None, "pool_returned", f"no follow-up for {days} days")
                done["returned"] += 1
            elif warned is None and due - timedelta(days=doc.get("warn_days_before", 1)) <= now:
                conn.execute(holds.update().where(holds.c.object == doc["object"], holds.c.record_id == rid)
                             .values(warned_at=now))
                message = f"returns to the pool at {due.isoformat()} unless followed up"
                _event(conn, doc, rid, "pool_return_warning", None, message, now, user_id=int(uid))
                conn.execute(notifications.insert().values(
                    user_id=int(uid), title=_warning_title(conn, snap, doc, rid, int(uid), due, tz), body="",
                    object=doc["object"],
                    record_id=rid, key=f"pool_warn:{doc['name']}:{rid}:{int(since_at.timestamp())}", created_at=now))
                done["warned"] += 1
    return done
