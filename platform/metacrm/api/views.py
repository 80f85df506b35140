"""`/api/v1/views`: saved list views on the server (engines/views.py); sharing is for administrators.

A view's columns, sort and filter are checked with the list's own parsers and the caller's field
rules, so a view never names a field its owner may not see and always opens as a list.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..engines import views as engine
from ..errors import BadRequest, Problem, ValidationError
from ..store.db import reading
from .access import object_for
from .context import principal, services, snapshot
from .jsonio import json_body
from .listing import compile_rule, parse_fields, parse_sort

bp = Blueprint("views", __name__)


def _values(body: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored columns of a view from a request body (a PUT keeps what it leaves out)."""
    who, svc = principal(), services()
    snap = snapshot()
    merged = {**(current or {}), **body}
    unknown = set(body) - {"object", "name", "columns", "sort", "filter", "shared"}
    if unknown:
        raise ValidationError("unknown view properties", [Problem(k, "unknown", "not a view property")
                                                          for k in sorted(unknown)])
    if current is not None and body.get("object", current["object"]) != current["object"]:
        raise ValidationError("a view keeps its object", [Problem("object", "readonly", "create a new view")])
    if not isinstance(merged.get("object"), str):
        raise ValidationError("'object' is required", [Problem("object", "required", "an object name")])
    obj, perm = object_for(snap, who, merged["object"])
    columns, sort, rule = merged.get("columns"), merged.get("sort"), merged.get("filter")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or len(columns) > 100:
            raise ValidationError("invalid columns", [Problem("columns", "type", "a list of field names")])
        try:
            parse_fields(",".join(columns), obj, perm)
        except BadRequest as exc:
            raise ValidationError("invalid columns", [Problem("columns", p.code, p.message) for p in exc.problems]) from None
    if sort is not None:
        if not isinstance(sort, str) or len(sort) > 500:
            raise ValidationError("invalid sort", [Problem("sort", "type", "like '-created_at,name'")])
        try:
            parse_sort(sort, obj, perm)
        except BadRequest as exc:
            raise ValidationError("invalid sort", exc.problems) from None
    if rule is not None:
        if not isinstance(rule, dict):
            raise ValidationError("invalid filter", [Problem("filter", "type", "a rule (JSON object) or null")])
        compile_rule(rule, obj, snap, who, svc.settings.timezone)
    out = {"object": obj.name, "name": engine.check_name(merged.get("name")), "columns": columns, "sort": sort,
           "filter": rule}
    return out


@bp.get("/views")
def list_views() -> Any:
    who, svc = principal(), services()
    name = request.args.get("object")
    if not name:
        raise BadRequest("'object' is required", [Problem("object", "required", "an object name")])
    with reading(svc.engine) as conn:
        obj, _ = object_for(snapshot(conn), who, name)
        return jsonify({"items": engine.list_views(conn, obj, who)})


@bp.post("/views")
def create_view() -> Any:
    who, svc = principal(), services()
    body = json_body()
    values = _values(body)
    with svc.engine.begin() as conn:
        shared_roles, shared_teams = engine.check_shared(conn, who, body.get("shared"))
        view = engine.save_view(conn, who, {**values, "shared_roles": shared_roles, "shared_teams": shared_teams})
    return jsonify(view), 201


@bp.put("/views/<rid:view_id>")
def update_view(view_id: int) -> Any:
    who, svc = principal(), services()
    body = json_body()
    with svc.engine.begin() as conn:
        current = dict(engine.get_view(conn, view_id, who, write=True))
        values = _values(body, current)
        extra: dict[str, Any] = {}
        if "shared" in body:
            extra["shared_roles"], extra["shared_teams"] = engine.check_shared(conn, who, body["shared"])
        view = engine.save_view(conn, who, {**values, **extra}, view_id)
    return jsonify(view)


@bp.delete("/views/<rid:view_id>")
def delete_view(view_id: int) -> Any:
    who, svc = principal(), services()
    with svc.engine.begin() as conn:
        engine.get_view(conn, view_id, who, write=True)
        engine.delete_view(conn, view_id)
    return jsonify({"deleted": view_id})
