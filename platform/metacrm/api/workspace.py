"""What the web app needs around records: titles of relation values, pickers, home, tag suggestions,
the trash.

All of it reads within the caller's data scope and field rules (engines/titles.py uses the list's
scope): an id the caller may not read is simply absent.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..engines import conversion
from ..engines import home as home_engine
from ..engines import search as search_engine
from ..engines.titles import lookup as lookup_records
from ..engines.titles import titles as record_titles
from ..errors import BadRequest, Problem, ValidationError
from ..meta.fields import USER_TARGET
from ..store.db import reading
from .access import object_for, require_in_scope
from .context import principal, services, snapshot
from .jsonio import int_arg, json_body
from .listing import MAX_LIMIT, ListQuery, run_list

bp = Blueprint("workspace", __name__)

MAX_TITLE_IDS = 500
MAX_QUERY = 200


@bp.post("/titles")
def titles() -> Any:
    """`{"account": [1, 2], "user": [4]}` -> `{"account": {"1": {"title", "subtitle"}}, ...}`."""
    body = json_body()
    who, svc = principal(), services()
    problems = []
    for name, ids in body.items():
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            problems.append(Problem(name, "type", "a list of record ids"))
        elif len(ids) > MAX_TITLE_IDS:
            problems.append(Problem(name, "max_items", f"at most {MAX_TITLE_IDS} ids per object"))
    if problems:
        raise ValidationError("invalid title request", problems)
    out: dict[str, dict[str, Any]] = {}
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        for name, ids in body.items():
            if name != USER_TARGET:
                snap.object(name)  # an unknown object is a 404, not an empty answer
            found = record_titles(conn, snap, who, name, ids)
            out[name] = {str(rid): t for rid, t in sorted(found.items())}
    return jsonify(out)


def _query_arg() -> str:
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY:
        raise BadRequest("'q' is too long", [Problem("q", "max_length", f"at most {MAX_QUERY} characters")])
    return q


@bp.get("/lookup/<object_name>")
def lookup(object_name: str) -> Any:
    who, svc = principal(), services()
    q, limit = _query_arg(), int_arg("limit", 20, 1, 100)
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        return jsonify({"items": lookup_records(conn, snap, who, object_name, q, limit)})


@bp.get("/search")
def search() -> Any:
    """Global search: `{"groups": [{"object", "label", "items": [{"id", "title", "subtitle"}]}]}`."""
    who, svc = principal(), services()
    q, limit = _query_arg(), int_arg("limit", 5, 1, 50)
    with reading(svc.engine) as conn:
        return jsonify({"groups": search_engine.search(conn, snapshot(conn), who, q, limit)})


@bp.get("/home")
def home() -> Any:
    who, svc = principal(), services()
    with reading(svc.engine) as conn:
        return jsonify(home_engine.home(conn, snapshot(conn), who, svc.settings.timezone))


def _matches(doc: dict[str, Any], q: str) -> bool:
    if not q:
        return True
    texts = [doc.get("name", "")] + [str(v) for v in (doc.get("label") or {}).values()]
    return any(q in str(t).lower() for t in texts)


@bp.get("/tags")
def tags() -> Any:
    """Tags of one object whose name or label (in any language) contains `q`, for the tag box."""
    who = principal()
    snap = snapshot()
    object_name = request.args.get("object")
    if not object_name:
        raise BadRequest("'object' is required", [Problem("object", "required", "an object name")])
    obj, _ = object_for(snap, who, object_name)
    q = _query_arg().strip().lower()
    items = []
    for name, doc in snap.definitions.items("tag"):
        if obj.name in (doc.get("objects") or ()) and _matches(doc, q):
            items.append({"name": name, "label": dict(doc.get("label") or {"en": name}),
                          "group": doc.get("group"), "automatic": doc.get("rule") is not None})
    items.sort(key=lambda t: (not t["name"].lower().startswith(q), t["name"]))
    return jsonify({"items": items[:int_arg("limit", 50, 1, 500)]})


@bp.get("/records/<object_name>/trash")
def trash(object_name: str) -> Any:
    """Soft-deleted records, newest deleted first (for whoever may delete, within their scope)."""
    who, svc = principal(), services()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        obj, perm = object_for(snap, who, object_name, "delete")
        who.require(obj.name, "read")
        q = ListQuery(sort=(("deleted_at", True), ("id", True)), limit=int_arg("limit", 50, 1, MAX_LIMIT),
                      cursor=request.args.get("cursor") or None)
        return jsonify(run_list(conn, svc.records, snap, obj, perm, who, q, svc.settings.timezone, deleted=True))


@bp.get("/conversions/<object_name>")
def conversion_info(object_name: str) -> Any:
    """What converting a record of the object creates (for the conversion dialog): the targets with
    their labels and field mapping, or `{"conversion": null}` when the object has none. Readable by
    whoever may read and update the object (the admin-only definition stays admin-only)."""
    who = principal()
    snap = snapshot()
    obj, _ = object_for(snap, who, object_name, "update")
    doc = conversion.conversion_for(snap, obj.name)
    if doc is None:
        return jsonify({"conversion": None})
    targets = [{"key": t["key"], "object": t["object"], "label": t.get("label") or {"en": t["key"]},
                "optional": bool(t.get("optional")), "default": bool(t.get("default", not t.get("optional"))),
                "fields": dict(t.get("fields") or {})}
               for t in doc["targets"] if who.permission(t["object"]).create]
    return jsonify({"conversion": {"name": doc["name"], "label": doc.get("label"),
                                   "description": doc.get("description"), "targets": targets}})


@bp.post("/records/<object_name>/<rid:record_id>/convert")
def convert(object_name: str, record_id: int) -> Any:
    """Convert a record by its object's conversion: `{"account": true, "opportunity": false}` -> 201
    `{"customer": 12, "account": 5, "opportunity": null}`; 409 `already_converted` the second time."""
    who, svc = principal(), services()
    body = json_body()
    with svc.records.transaction() as conn:
        snap = snapshot(conn)
        obj, _ = object_for(snap, who, object_name, "update")
        who.require(obj.name, "read")
        require_in_scope(who, obj, svc.records.get(obj.name, record_id, conn=conn))
        created = conversion.convert(conn, svc.records, snap, who, obj.name, record_id, body)
    return jsonify(created), 201
