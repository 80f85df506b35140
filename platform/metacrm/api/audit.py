"""`/api/v1/audit`: who changed what, when, from what to what, across records (admins).

Record events carry the actor and the before/after of every changed field; definitions keep
every version with its author (see /definitions/{kind}/{name}/versions). A record's own history
for non-admins is its timeline (/records/{object}/{id}/timeline), limited by their scope.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from ..store.db import reading
from ..store.system import record_events, users
from .context import admin_only, services
from .jsonio import int_arg

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@admin_only
def audit() -> Any:
    e = record_events
    query = (select(e, users.c.username).select_from(e.outerjoin(users, users.c.id == e.c.actor_id))
             .order_by(e.c.id.desc()))
    obj = request.args.get("object")
    if obj:
        query = query.where(e.c.object == obj[:64])
    record_id = int_arg("record_id", 0, 0, 2**62)
    if record_id:
        query = query.where(e.c.record_id == record_id)
    actor = int_arg("actor_id", 0, 0, 2**62)
    if actor:
        query = query.where(e.c.actor_id == actor)
    before = int_arg("cursor", 0, 0, 2**62)
    if before:
        query = query.where(e.c.id < before)
    limit = int_arg("limit", 50, 1, 500)
    with reading(services().engine) as conn:
        rows = conn.execute(query.limit(limit + 1)).mappings().all()
    items = [{"id": r["id"], "object": r["object"], "record_id": r["record_id"], "kind": r["kind"],
              "at": r["at"].isoformat().replace("+00:00", "Z"), "actor_id": r["actor_id"],
              "actor": r["username"], "changes": r["changes"], "context": r["context"]} for r in rows[:limit]]
    more = len(rows) > limit
    return jsonify({"items": items, "next_cursor": str(items[-1]["id"]) if more else None})
