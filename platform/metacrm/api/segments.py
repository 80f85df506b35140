"""`/api/v1/segments`: saved rules over one object, counted and listed within the caller's scope."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import func, select

from ..errors import NotFound, Problem
from ..store.db import reading
from .access import object_for
from .context import principal, services, snapshot
from .listing import base_where, compile_rule, run_list
from .records import list_query

bp = Blueprint("segments", __name__)


def _segment(snap: Any, name: str) -> dict[str, Any]:
    doc = snap.definitions.get("segment", name)
    if doc is None:
        raise NotFound(f"no segment named '{name[:64]}'", [Problem("segment", "not_found", name[:64])])
    return doc


@bp.get("/segments")
def list_segments() -> Any:
    who = principal()
    snap = snapshot()
    items = [doc for _, doc in snap.definitions.items("segment")
             if doc.get("object") in snap.objects and who.permission(doc["object"]).read]
    return jsonify({"items": items})


@bp.get("/segments/<name>/count")
def segment_count(name: str) -> Any:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        doc = _segment(snap, name)
        obj, _ = object_for(snap, who, doc["object"])
        table = snap.tables[obj.name]
        where = [*base_where(obj, table, who),
                 compile_rule(doc["rule"], obj, snap, who, svc.settings.timezone, "segment")]
        count = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return jsonify({"segment": name, "object": obj.name, "count": int(count)})


@bp.get("/segments/<name>/records")
def segment_records(name: str) -> Any:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        doc = _segment(snap, name)
        obj, perm = object_for(snap, who, doc["object"])
        query = list_query(obj, perm, default_sort=",".join(doc.get("sort") or ["-created_at"]))
        extra = [compile_rule(doc["rule"], obj, snap, who, svc.settings.timezone, "segment")]
        return jsonify(run_list(conn, svc.records, snap, obj, perm, who, query, svc.settings.timezone, extra))
