"""`/api/v1/records/{object}/{id}/links/{name}`: many-to-many links, from either side.

GET lists the linked records the caller may read (with the link's columns); POST adds links, PUT
makes the given links all of them, DELETE .../{other_id} removes one. Changing links needs update
on the declaring object and read on the other; the addressed record must be in the caller's scope,
and an id outside it is reported exactly as a missing one (422 naming it).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..errors import BadRequest, Problem
from ..store import links
from ..store.db import reading
from .access import require_in_scope
from .context import principal, services, snapshot
from .jsonio import json_body

bp = Blueprint("links", __name__)


def _side(conn: Any, object_name: str, record_id: int, name: str, write: bool) -> tuple[Any, links.Side, Any]:
    svc, who = services(), principal()
    snap = snapshot(conn)
    obj = snap.object(object_name)
    s = links.side(snap, obj.name, name)
    who.require(obj.name, "read")
    who.require(s.other_object, "read")
    if write:
        who.require(s.link.owner, "update")
    record = svc.records.get(obj.name, record_id, conn=conn)
    require_in_scope(who, obj, record)
    return snap, s, who.row_filter(s.other_object, snap.tables[s.other_object])


@bp.get("/records/<object_name>/<rid:record_id>/links/<name>")
def list_links(object_name: str, record_id: int, name: str) -> Any:
    with reading(services().engine) as conn:
        snap, s, scope = _side(conn, object_name, record_id, name, write=False)
        return jsonify({"object": s.other_object, "items": links.list_links(conn, snap, s, record_id, scope)})


def _body_links() -> list[Any]:
    body = json_body()
    items = body.get("links") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise BadRequest("send {\"links\": [...]}", [Problem("links", "type", "a list of ids or {\"id\": ..., column: value}")])
    return items


def _change(object_name: str, record_id: int, name: str, replace: bool) -> Any:
    svc, who = services(), principal()
    items = _body_links()
    with svc.records.transaction() as conn:
        snap, s, scope = _side(conn, object_name, record_id, name, write=True)
        done = links.change(conn, snap, s, record_id, add=items, replace=replace, actor_id=who.id,
                            other_scope=scope, ctx=svc.records.ctx,
                            notify=lambda evs: svc.records.notify(conn, snap, evs))
        return jsonify({**done, "items": links.list_links(conn, snap, s, record_id, scope)})


@bp.post("/records/<object_name>/<rid:record_id>/links/<name>")
def add_links(object_name: str, record_id: int, name: str) -> Any:
    return _change(object_name, record_id, name, replace=False)


@bp.put("/records/<object_name>/<rid:record_id>/links/<name>")
def set_links(object_name: str, record_id: int, name: str) -> Any:
    return _change(object_name, record_id, name, replace=True)


@bp.delete("/records/<object_name>/<rid:record_id>/links/<name>/<rid:other_id>")
def remove_link(object_name: str, record_id: int, name: str, other_id: int) -> Any:
    svc, who = services(), principal()
    with svc.records.transaction() as conn:
        snap, s, scope = _side(conn, object_name, record_id, name, write=True)
        done = links.change(conn, snap, s, record_id, remove=[other_id], actor_id=who.id, other_scope=scope,
                            notify=lambda evs: svc.records.notify(conn, snap, evs))
        return jsonify(done)
