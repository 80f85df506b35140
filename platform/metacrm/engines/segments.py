"""Segments: a saved rule over one object. Count, list and "is record X in S" use that one rule.

Tracked segments (`"track": true`) also keep their members in sys_segment_member so a write can
record `segment_entered` / `segment_left` events (rule_members); this module answers queries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from ..errors import NotFound, Problem
from ..flows.jobs import job
from ..flows.schedules import on_maintenance
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..meta.objects import ObjectDef
from ..rules import RowFilter, to_sql, validate_rule
from ..rules.catalog import SYSTEM_FIELD_TYPES
from ..store.services import Services
from .rule_members import member_plan, refresh_members
from .tags import recompute

DEFAULT_SORT = ("-created_at",)
log = logging.getLogger(__name__)


def check_segment(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    obj_doc = defs.get("object", doc["object"])
    if obj_doc is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    for p in validate_rule(doc["rule"], doc["object"], defs):
        yield Problem("/rule" + ("" if p.field == "/" else p.field), p.code, p.message)
    fields = set(obj_doc["properties"]) | set(SYSTEM_FIELD_TYPES)
    for i, key in enumerate(doc.get("sort", ())):
        if key.lstrip("-") not in fields:
            yield Problem(f"/sort/{i}", "unknown_field", f"'{key.lstrip('-')}' is not a field of {doc['object']}")
    for i, name in enumerate(doc.get("columns", ())):
        if name not in fields:
            yield Problem(f"/columns/{i}", "unknown_field", f"'{name}' is not a field of {doc['object']}")


register_kind(Kind("segment", "segments", check=check_segment, refers_to=("object", "tag")))


def segment(snap: Any, name: str) -> dict[str, Any]:
    doc = snap.definitions.get("segment", name)
    if doc is None:
        raise NotFound(f"no segment named '{name[:64]}'", [Problem("segment", "not_found", name[:64])])
    return doc


def segments_of(snap: Any, object_name: str | None = None) -> list[dict[str, Any]]:
    return [d for _, d in snap.definitions.items("segment") if object_name is None or d["object"] == object_name]


def segment_query(snap: Any, name: str, *, tz: str = "UTC", now: datetime | None = None,
                  row_filter: RowFilter | None = None) -> tuple[ObjectDef, Select[Any]]:
    """SELECT the segment's live records (unsorted, unpaginated): callers add order and limits."""
    doc = segment(snap, name)
    obj = snap.object(doc["object"])
    table = snap.tables[obj.name]
    query = select(table).where(table.c.deleted_at.is_(None),
                                to_sql(doc["rule"], obj.name, snap, now=now, tz=tz, row_filter=row_filter))
    if row_filter is not None:
        scope = row_filter(obj.name)
        if scope is not None:
            query = query.where(scope)
    return obj, query


def count(conn: Connection, snap: Any, name: str, *, tz: str = "UTC", now: datetime | None = None,
          row_filter: RowFilter | None = None) -> int:
    _, query = segment_query(snap, name, tz=tz, now=now, row_filter=row_filter)
    return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def order_by(snap: Any, name: str) -> list[Any]:
    doc = segment(snap, name)
    table = snap.tables[doc["object"]]
    out = []
    for key in doc.get("sort") or DEFAULT_SORT:
        col = table.c[key.lstrip("-")]
        out.append((col.desc() if key.startswith("-") else col.asc()).nulls_last())
    out.append(table.c.id.desc())
    return out


def list_records(services: Services, name: str, *, limit: int = 50, offset: int = 0,
                 conn: Connection | None = None, row_filter: RowFilter | None = None) -> list[dict[str, Any]]:
    """One page of the segment's records as the record service shows them, in the segment's order."""
    with services.records.transaction(conn) as c:
        snap = services.registry.current(c)
        obj, query = segment_query(snap, name, tz=services.settings.timezone, row_filter=row_filter)
        query = query.order_by(*order_by(snap, name)).limit(max(1, min(limit, 1000))).offset(max(0, offset))
        return [services.records.to_dict(obj, r._mapping) for r in c.execute(query)]


def contains(conn: Connection, snap: Any, name: str, record_id: int, *, tz: str = "UTC",
             now: datetime | None = None) -> bool:
    """Whether one record is in the segment now (the same rule, restricted to that id)."""
    obj, query = segment_query(snap, name, tz=tz, now=now)
    table = snap.tables[obj.name]
    return conn.execute(query.with_only_columns(table.c.id).where(table.c.id == record_id)).first() is not None


def refresh_tracked(conn: Connection, snap: Any, *, names: list[str] | None = None, tz: str = "UTC",
                    now: datetime | None = None) -> list[dict[str, Any]]:
    """Re-evaluate tracked segments set-based, recording segment_entered/segment_left events.

    Writes keep tracked segments current; time alone moves records across relative dates
    ("created in the last 30 days"): the daily maintenance pass (`maintenance`) does that for the
    segments whose rules read the clock; this refreshes any, on demand.
    """
    for name in names or ():
        segment(snap, name)
    chosen = [m for m in member_plan(snap).members
              if m.kind == "segment" and (names is None or m.name in names)]
    return refresh_members(conn, snap, chosen, tz, now, events=True)


@job("segments.refresh")
def refresh_job(services: Services, names: list[str] | None = None) -> list[dict[str, Any]]:
    with services.records.transaction() as conn:
        return refresh_tracked(conn, services.registry.current(conn), names=names, tz=services.settings.timezone)


@job("tags.recompute")
def recompute_job(services: Services, object_name: str | None = None,
                  tags: list[str] | None = None) -> list[dict[str, Any]]:
    with services.records.transaction() as conn:
        return recompute(conn, services.registry.current(conn), object_name=object_name, tags=tags,
                         tz=services.settings.timezone)


def refresh_clock(conn: Connection, snap: Any, *, tz: str = "UTC", now: datetime | None = None) -> list[dict[str, Any]]:
    """Re-evaluate, set-based, the automatic tags and tracked segments whose rules read the clock
    (within_last, this_month, ...), with what tests those tags, logging the changes as events.

    Only time moves these between writes; every other rule is kept current by the writes themselves.
    """
    chosen = [m for m in member_plan(snap).members if m.reads.clock]
    return refresh_members(conn, snap, chosen, tz, now, events=True)


@job("rules.maintenance")
def maintenance(services: Services, fired_at: str | None = None) -> list[dict[str, Any]]:
    """The daily pass the sweeper starts at METACRM_MAINTENANCE_CRON (flows/schedules.py)."""
    with services.records.transaction() as conn:
        done = refresh_clock(conn, services.registry.current(conn), tz=services.settings.timezone)
    log.info("maintenance fired at %s: %s", fired_at, [d for d in done if d["added"] or d["removed"]])
    return done


on_maintenance("rules.maintenance")
