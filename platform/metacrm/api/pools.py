"""`/api/v1/pools`: the shared lead pool: browse, claim, release, and the caller's remaining quota.

A pool's records are unowned, so the owner-based data scope cannot select them: a pool is
readable by its teams' members who may read its object (admins always), its list shows only the
fields the caller may see, and claiming needs the update verb on the object.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select

from ..engines import lead_pool as engine
from ..errors import PermissionDenied, Problem
from ..store.db import reading
from .access import object_for, visible
from .context import principal, services, snapshot
from .jsonio import int_arg
from .pipelines import ID, checked

bp = Blueprint("pools", __name__)

CLAIM = {"type": "object", "required": ["record_id"], "additionalProperties": False, "properties": {"record_id": ID}}
RELEASE = {"type": "object", "required": ["record_id", "reason"], "additionalProperties": False, "properties": {
    "record_id": ID, "reason": {"type": "string", "minLength": 1, "maxLength": 500}}}


def _pool(conn: Any, name: str, verb: str = "read") -> tuple[Any, Any, dict[str, Any], Any, Any]:
    who = principal()
    snap = snapshot(conn)
    doc = engine.pool(snap, name)
    obj, perm = object_for(snap, who, doc["object"], verb)
    if not who.is_admin and not engine.is_member(conn, doc, who.id):
        raise PermissionDenied(f"you are not in a team of pool {name}", [Problem("pool", "not_a_member", name)])
    return who, snap, doc, obj, perm


@bp.get("/pools")
def list_pools() -> Any:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        items = [{**doc, "quota": engine.quota(conn, doc, who.id, svc.settings.timezone)}
                 for _, doc in sorted(snap.definitions.items("lead_pool"))
                 if doc["object"] in snap.objects and who.permission(doc["object"]).read
                 and (who.is_admin or engine.is_member(conn, doc, who.id))]
    return jsonify({"items": items})


@bp.get("/pools/<name>/records")
def pool_records(name: str) -> Any:
    """The pool's records, newest first, keyset-paginated by id (`before` = the last id seen)."""
    svc = services()
    limit = int_arg("limit", 50, 1, 500)
    before = int_arg("before", 0, 0, 2**63 - 1)
    with reading(svc.engine) as conn:
        who, snap, doc, obj, perm = _pool(conn, name)
        table = snap.tables[obj.name]
        query = select(table).where(*engine.in_pool(snap, doc, svc.settings.timezone))
        if before:
            query = query.where(table.c.id < before)
        rows = conn.execute(query.order_by(table.c.id.desc()).limit(limit + 1)).all()
        items = [visible(svc.records.to_dict(obj, r._mapping), perm) for r in rows[:limit]]
        quota = engine.quota(conn, doc, who.id, svc.settings.timezone)
    return jsonify({"items": items, "next_before": items[-1]["id"] if len(rows) > limit else None, "quota": quota})


@bp.get("/pools/<name>/quota")
def pool_quota(name: str) -> Any:
    svc = services()
    with reading(svc.engine) as conn:
        who, _, doc, _, _ = _pool(conn, name)
        return jsonify(engine.quota(conn, doc, who.id, svc.settings.timezone))


@bp.post("/pools/<name>/claim")
def claim(name: str) -> Any:
    """Claim a record: 409 `already_claimed` if someone was faster, 409 `limit_reached` naming the limit and reset."""
    svc = services()
    body = checked(CLAIM)
    with svc.records.transaction() as conn:
        who, snap, doc, _obj, perm = _pool(conn, name, "update")
        record = engine.claim(conn, svc.records, snap, doc, body["record_id"], who.id, svc.settings.timezone)
        quota = engine.quota(conn, doc, who.id, svc.settings.timezone)
    return jsonify({"record": visible(record, perm), "quota": quota})


@bp.post("/pools/<name>/release")
def release(name: str) -> Any:
    """Put a record back with a reason: its owner, or whoever may give records to anyone (scope all, admins)."""
    svc = services()
    body = checked(RELEASE)
    with svc.records.transaction() as conn:
        who, snap, doc, _obj, perm = _pool(conn, name, "update")
        others = who.is_admin or perm.scope == "all"
        record = engine.release(conn, svc.records, snap, doc, body["record_id"], who.id, body["reason"], others)
        quota = engine.quota(conn, doc, who.id, svc.settings.timezone)
    return jsonify({"record": visible(record, perm), "quota": quota})
