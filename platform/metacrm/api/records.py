"""`/api/v1/records/{object}`: list, read, create, update, delete, restore, bulk, timeline, tags.

Every write goes through the record service with the caller as actor; every read is limited to
the caller's data scope and visible fields (see access.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from ..errors import BadRequest, Conflict, NotFound, Problem
from ..store.db import reading
from ..store.events import timeline
from ..store.system import users
from . import tagging
from .access import int_owner, object_for, require_in_scope, require_writable, row_filter, visible, with_owner
from .context import principal, services, snapshot
from .jsonio import bool_arg, check_list, if_match_version, int_arg, json_body
from .listing import MAX_LIMIT, ListQuery, parse_fields, parse_rule, parse_sort, run_list

bp = Blueprint("records", __name__)

MAX_TAGS = 100


def _with_etag(record: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(record)
    response.status_code = status
    response.headers["ETag"] = f'"{record["version"]}"'
    return response


def list_query(obj: Any, perm: Any, default_sort: str | None = None) -> ListQuery:
    args = request.args
    return ListQuery(rule=parse_rule(args.get("filter")),
                     sort=parse_sort(args.get("sort") or default_sort, obj, perm),
                     fields=parse_fields(args.get("fields"), obj, perm), limit=int_arg("limit", 50, 1, MAX_LIMIT),
                     cursor=args.get("cursor") or None, count=bool_arg("count"))


@bp.get("/records/<object_name>")
def list_records(object_name: str) -> Any:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        obj, perm = object_for(snap, who, object_name)
        return jsonify(run_list(conn, svc.records, snap, obj, perm, who, list_query(obj, perm),
                                svc.settings.timezone))


def _load_visible(conn: Any, object_name: str, record_id: int, verb: str,
                  include_deleted: bool = False) -> tuple[Any, Any, Any, dict[str, Any]]:
    svc, who = services(), principal()
    snap = snapshot(conn)
    obj, perm = object_for(snap, who, object_name, verb)
    if verb != "read":
        who.require(obj.name, "read")
    record = svc.records.get(obj.name, record_id, include_deleted=include_deleted, conn=conn)
    require_in_scope(who, obj, record)
    return snap, obj, perm, record


@bp.get("/records/<object_name>/<rid:record_id>")
def get_record(object_name: str, record_id: int) -> Any:
    svc = services()
    with reading(svc.engine) as conn:
        snap, obj, perm, record = _load_visible(conn, object_name, record_id, "read")
        out = visible(record, perm)
        out["tags"] = tagging.record_tags(conn, snap, obj.name, record_id)
    return _with_etag(out)


@bp.post("/records/<object_name>")
def create_record(object_name: str) -> Any:
    svc, who = services(), principal()
    snap = snapshot()
    obj, perm = object_for(snap, who, object_name, "create")
    data = with_owner(who, obj, json_body())
    require_writable(who, obj, perm, [data])
    record = svc.records.create(obj.name, data, actor_id=who.id, reference_scope=row_filter(snap, who))
    return _with_etag(visible(record, who.permission(obj.name)), 201)


@bp.patch("/records/<object_name>/<rid:record_id>")
def update_record(object_name: str, record_id: int) -> Any:
    svc, who = services(), principal()
    version = if_match_version()
    data = int_owner(json_body())
    with svc.records.transaction() as conn:
        snap, obj, perm, _ = _load_visible(conn, object_name, record_id, "update")
        require_writable(who, obj, perm, [data])
        try:
            record = svc.records.update(obj.name, record_id, data, expected_version=version, actor_id=who.id,
                                        conn=conn, reference_scope=row_filter(snap, who))
        except Conflict as exc:
            exc.code = "stale_version" if any(p.code == "stale_version" for p in exc.problems) else exc.code
            raise
    return _with_etag(visible(record, perm))


@bp.delete("/records/<object_name>/<rid:record_id>")
def delete_record(object_name: str, record_id: int) -> Any:
    svc, who = services(), principal()
    version = if_match_version()
    with svc.records.transaction() as conn:
        _, obj, perm, _ = _load_visible(conn, object_name, record_id, "delete")
        try:
            record = svc.records.delete(obj.name, record_id, expected_version=version, actor_id=who.id, conn=conn)
        except Conflict as exc:
            exc.code = "stale_version"
            raise
    return _with_etag(visible(record, perm))


@bp.post("/records/<object_name>/<rid:record_id>/restore")
def restore_record(object_name: str, record_id: int) -> Any:
    svc, who = services(), principal()
    with svc.records.transaction() as conn:
        _, obj, perm, _ = _load_visible(conn, object_name, record_id, "delete", include_deleted=True)
        record = svc.records.restore(obj.name, record_id, actor_id=who.id, conn=conn)
    return _with_etag(visible(record, perm))


@bp.post("/records/<object_name>/bulk")
def bulk_create(object_name: str) -> Any:
    svc, who = services(), principal()
    snap = snapshot()
    obj, perm = object_for(snap, who, object_name, "create")
    body = json_body()
    rows = body.get("records")
    if not isinstance(rows, list) or not rows:
        raise BadRequest("'records' must be a non-empty list", [Problem("records", "type", "a list of records")])
    if len(rows) > svc.settings.max_bulk_records:
        raise BadRequest("too many records", [Problem("records", "max_items",
                         f"at most {svc.settings.max_bulk_records} per request")])
    skip = body.get("skip_invalid", False)
    if not isinstance(skip, bool):
        raise BadRequest("'skip_invalid' must be true or false", [Problem("skip_invalid", "type", "a boolean")])
    rows = [with_owner(who, obj, r) for r in rows]
    require_writable(who, obj, perm, rows, many=True)
    result = svc.records.bulk_create(obj.name, rows, actor_id=who.id, skip_invalid=skip,
                                     reference_scope=row_filter(snap, who))
    return jsonify({"created": result.created, "ids": result.ids,
                    "errors": {str(i): [p.to_dict() for p in ps] for i, ps in result.errors.items()}}), 201


@bp.post("/records/<object_name>/bulk-update")
def bulk_update(object_name: str) -> Any:
    """Change fields and/or add tags on many records, all or nothing."""
    svc, who = services(), principal()
    body = json_body()
    ids = check_list(body.get("ids"), "ids", int, svc.settings.max_bulk_records)
    changes = int_owner(body.get("set", {}))
    tags = check_list(body.get("add_tags", []), "add_tags", str, MAX_TAGS)
    if not isinstance(changes, dict):
        raise BadRequest("'set' must be an object", [Problem("set", "type", "an object of field values")])
    if not ids:
        raise BadRequest("'ids' must not be empty", [Problem("ids", "min_items", "at least one id")])
    with svc.records.transaction() as conn:
        snap = snapshot(conn)
        obj, perm = object_for(snap, who, object_name, "update")
        who.require(obj.name, "read")
        require_writable(who, obj, perm, [changes])
        for rid in dict.fromkeys(ids):
            if not 0 < rid < 2**63:
                raise NotFound(f"{obj.name} {rid} does not exist", [Problem("ids", "not_found", str(rid))])
            require_in_scope(who, obj, svc.records.get(obj.name, rid, conn=conn))
            if changes:
                svc.records.update(obj.name, rid, changes, actor_id=who.id, conn=conn,
                                   reference_scope=row_filter(snap, who))
        if tags:
            tagging.add_tags(conn, snap, obj.name, list(dict.fromkeys(ids)), tags, who.id, svc.settings.timezone)
    return jsonify({"updated": len(set(ids))})


@bp.get("/records/<object_name>/<rid:record_id>/timeline")
def record_timeline(object_name: str, record_id: int) -> Any:
    svc = services()
    limit = int_arg("limit", 50, 1, 500)
    before = int_arg("cursor", 0, 0, 2**62) or None
    with reading(svc.engine) as conn:
        _, obj, perm, _ = _load_visible(conn, object_name, record_id, "read", include_deleted=True)
        events = timeline(conn, obj.name, record_id, limit=limit + 1, before_id=before)
        more = len(events) > limit
        events = events[:limit]
        actors = actor_names(conn, {e["actor_id"] for e in events if e["actor_id"] is not None})
    items = [_event(e, perm.hidden, actors) for e in events]
    return jsonify({"items": items, "next_cursor": str(events[-1]["id"]) if more and events else None})


def actor_names(conn: Any, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = conn.execute(select(users.c.id, users.c.username, users.c.display_name).where(users.c.id.in_(sorted(ids))))
    return {r.id: dict(r._mapping) for r in rows}


def _event(e: dict[str, Any], hidden: frozenset[str], actors: dict[int, dict[str, Any]]) -> dict[str, Any]:
    changes = e["changes"] or {}
    if hidden and isinstance(changes, dict):
        changes = {side: ({k: v for k, v in values.items() if k not in hidden} if isinstance(values, dict)
                          else values) for side, values in changes.items()}
    at = e["at"]
    return {"id": e["id"], "kind": e["kind"], "at": at.isoformat().replace("+00:00", "Z"),
            "actor_id": e["actor_id"], "actor": actors.get(e["actor_id"]), "changes": changes,
            "context": e["context"]}


@bp.get("/records/<object_name>/<rid:record_id>/tags")
def get_tags(object_name: str, record_id: int) -> Any:
    svc = services()
    with reading(svc.engine) as conn:
        snap, obj, _, _ = _load_visible(conn, object_name, record_id, "read")
        return jsonify({"tags": tagging.record_tags(conn, snap, obj.name, record_id)})


@bp.post("/records/<object_name>/<rid:record_id>/tags")
def add_tags(object_name: str, record_id: int) -> Any:
    svc, who = services(), principal()
    body = json_body()
    names = check_list(body.get("tags"), "tags", str, MAX_TAGS)
    with svc.records.transaction() as conn:
        snap, obj, _, _ = _load_visible(conn, object_name, record_id, "update")
        tagging.add_tags(conn, snap, obj.name, [record_id], names, who.id, svc.settings.timezone)
        return jsonify({"tags": tagging.record_tags(conn, snap, obj.name, record_id)})


@bp.delete("/records/<object_name>/<rid:record_id>/tags/<tag>")
def remove_tag(object_name: str, record_id: int, tag: str) -> Any:
    svc, who = services(), principal()
    with svc.records.transaction() as conn:
        snap, obj, _, _ = _load_visible(conn, object_name, record_id, "update")
        tagging.remove_tag(conn, snap, obj.name, record_id, tag, who.id, svc.settings.timezone)
        return jsonify({"tags": tagging.record_tags(conn, snap, obj.name, record_id)})
