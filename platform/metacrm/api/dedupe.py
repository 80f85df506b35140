"""`/api/v1/dedupe`: scan for duplicates, the review queue (merge or dismiss), merge history and undo.

Reading the queue needs `read` on the object (records come without the caller's hidden fields);
merging needs `update` and `delete` (the merged-away records are deleted); dismissing needs
`update`; scans and undo need `update` and `delete` as well. Every endpoint applies the caller's
data scope like the record list (engines/dedupe/guard.py): pairs and merges show only when the
caller may read their records, a pair or merge outside the scope is 404, and a merge or undo
needs `update` on every record it writes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..engines.dedupe.definition import definition
from ..engines.dedupe.guard import merge_view, require_touch, visible_ids
from ..engines.dedupe.merge import get_merge, list_merges, merge_records, undo_merge
from ..engines.dedupe.review import count_candidates, dismiss, get_candidate, list_candidates, merge_candidate
from ..engines.dedupe.scan import scan_pool
from ..engines.imports.jobs import start_scan
from ..errors import NotFound, Problem, ValidationError
from ..store.db import reading
from .access import object_for, visible
from .context import principal, services, snapshot
from .jsonio import INT_MAX, bool_arg, int_arg, json_body

bp = Blueprint("dedupe", __name__)


def _is_id(value: Any) -> bool:
    """A record id in a body: a JSON integer (not true/false) a table can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT_MAX


def _require(object_name: str, *verbs: str) -> Any:
    who = principal()
    snap = snapshot()
    perm = None
    for verb in verbs:
        obj, perm = object_for(snap, who, object_name, verb)
    return obj, perm


@bp.post("/dedupe/<object_name>/scan")
def scan(object_name: str) -> Any:
    """Queue new candidate pairs; runs as background job `dedupe.scan` (or in the request with ?wait=true)."""
    svc = services()
    obj, _ = _require(object_name, "update", "delete")
    if bool_arg("wait"):
        return jsonify(scan_pool(svc, obj.name).to_dict())
    return jsonify({"job_id": start_scan(svc, obj.name)}), 202


@bp.get("/dedupe/<object_name>/candidates")
def candidates(object_name: str) -> Any:
    """?status=pending|merged|dismissed &limit &after: pairs, best score first, with both records."""
    svc = services()
    obj, perm = _require(object_name, "read")
    status = request.args.get("status", "pending")
    if status not in ("pending", "merged", "dismissed"):
        raise ValidationError("status is pending, merged or dismissed", [Problem("status", "enum", status)])
    seen = visible_ids(snapshot(), principal(), obj.name)
    with reading(svc.engine) as conn:
        items = list_candidates(svc, conn, obj.name, status, int_arg("limit", 50, 1, 500),
                                int_arg("after", 0, 0, INT_MAX) or None, visible=seen)
        counts = count_candidates(conn, obj.name, visible=seen)
    for item in items:
        for side in ("left", "right"):
            if item.get(side) is not None:
                item[side] = visible(item[side], perm)
    return jsonify({"items": items, "counts": counts})


@bp.post("/dedupe/candidates/<rid:candidate_id>/merge")
def merge_pair(candidate_id: int) -> Any:
    """Body (optional): {"survivor_id": id}. Returns the merge (with its id for undo)."""
    svc, who = services(), principal()
    body = json_body() if request.data else {}
    survivor = body.get("survivor_id")
    if survivor is not None and not _is_id(survivor):
        raise ValidationError("survivor_id is a record id", [Problem("survivor_id", "type", "integer")])
    item = _candidate(candidate_id)
    _require(item["object"], "update", "delete")
    with svc.engine.begin() as conn:
        done = merge_candidate(svc, conn, candidate_id, survivor, who.id, who=who)
        return jsonify(merge_view(snapshot(conn), conn, who, done))


@bp.post("/dedupe/candidates/<rid:candidate_id>/dismiss")
def dismiss_pair(candidate_id: int) -> Any:
    svc, who = services(), principal()
    item = _candidate(candidate_id)
    _require(item["object"], "update")
    with svc.engine.begin() as conn:
        require_touch(snapshot(conn), conn, who, item["object"], [item["left_id"], item["right_id"]])
        return jsonify(dismiss(conn, candidate_id, who.id))


def _candidate(candidate_id: int) -> dict[str, Any]:
    """The pair, or 404 when the caller may not read both of its records (as if it did not exist)."""
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        item = get_candidate(conn, candidate_id)
        snap = snapshot(conn)
        if item["object"] in snap.tables:
            seen = visible_ids(snap, who, item["object"])
            if seen is not None or not who.permission(item["object"]).read:
                ids = {item["left_id"], item["right_id"]}
                found = set() if seen is None else set(conn.execute(seen.where(
                    snap.tables[item["object"]].c.id.in_(ids))).scalars())
                if found != ids:
                    raise NotFound(f"no duplicate candidate {candidate_id}",
                                   [Problem("candidate", "not_found", str(candidate_id))])
    return item


@bp.post("/dedupe/<object_name>/merge")
def merge_ids(object_name: str) -> Any:
    """Body: {"survivor_id": id, "ids": [ids merged into it]}."""
    svc, who = services(), principal()
    obj, _ = _require(object_name, "update", "delete")
    body = json_body()
    survivor, ids = body.get("survivor_id"), body.get("ids")
    if not _is_id(survivor) or not isinstance(ids, list) or not all(_is_id(i) for i in ids):
        raise ValidationError("send survivor_id (an id) and ids (a list of ids)",
                              [Problem("survivor_id", "type", "integer"), Problem("ids", "type", "list of integers")])
    with svc.engine.begin() as conn:
        dd = definition(snapshot(conn).definitions, obj.name)
        done = merge_records(svc, conn, dd, survivor, ids, actor_id=who.id, source="api", who=who)
        return jsonify(merge_view(snapshot(conn), conn, who, done))


@bp.get("/dedupe/<object_name>/merges")
def merges(object_name: str) -> Any:
    svc = services()
    obj, _ = _require(object_name, "read")
    who = principal()
    record = int_arg("record", 0, 1, INT_MAX) or None
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        found = list_merges(conn, obj.name, record, int_arg("limit", 50, 1, 500),
                            survivors=visible_ids(snap, who, obj.name))
        items = [v for v in (merge_view(snap, conn, who, m) for m in found) if v is not None]
    return jsonify({"items": items})


@bp.post("/dedupe/merges/<rid:merge_id>/undo")
def undo(merge_id: int) -> Any:
    """Body (optional): {"force": true} to undo although the survivor was edited since."""
    svc, who = services(), principal()
    body = json_body() if request.data else {}
    with reading(svc.engine) as conn:
        m = get_merge(conn, merge_id)
        if merge_view(snapshot(conn), conn, who, m) is None:
            raise NotFound(f"no merge {merge_id}", [Problem("merge", "not_found", str(merge_id))])
    _require(m["object"], "update", "delete")
    with svc.engine.begin() as conn:
        done = undo_merge(svc, conn, merge_id, who.id, force=bool(body.get("force")), who=who)
        return jsonify(merge_view(snapshot(conn), conn, who, done))
