"""`/api/v1/pipelines`: kanban boards, guarded moves, saved card order, funnel, forecast, stage history.

Every figure is computed over the caller's data scope (live rows they may read); amounts are
left out (null) where the caller may not see the amount field, and the forecast is refused then.
A move is a record update through the record service (stage + the fields the stage needs, in one
request), so a refused move answers 422 with {field, code, message, stage} and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from ..engines import pipeline_figures as figures
from ..engines import pipelines as engine
from ..errors import Conflict, NotFound, PermissionDenied, Problem, ValidationError
from ..meta.kinds import pointer
from ..store.db import reading
from .access import object_for, require_in_scope, require_writable, row_filter, visible
from .context import principal, services, snapshot
from .jsonio import int_arg, json_body
from .listing import base_where

bp = Blueprint("pipelines", __name__)

MAX_CARDS = 200
ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
MOVE = {"type": "object", "required": ["record_id", "stage"], "additionalProperties": False, "properties": {
    "record_id": ID, "stage": {"type": "string", "minLength": 1, "maxLength": 48},
    "version": {"type": "integer", "minimum": 1, "description": "The version being moved (409 when stale)."},
    "fields": {"type": "object", "description": "Other fields saved with the move (e.g. lost_reason)."},
    "order": {"type": "array", "maxItems": 1000, "items": ID,
              "description": "The target column's card order after the drop (saved in the same request)."}}}
ORDER = {"type": "object", "required": ["record_ids"], "additionalProperties": False, "properties": {
    "record_ids": {"type": "array", "minItems": 1, "maxItems": 1000, "uniqueItems": True, "items": ID}}}


def checked(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body, validated against the schema the OpenAPI document shows (every problem, with its pointer)."""
    body = json_body()
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ValidationError("the request body is invalid",
                              [Problem(pointer(e.absolute_path) or "/", str(e.validator), e.message) for e in errors])
    return body


def _context(conn: Any, name: str, verb: str = "read") -> tuple[Any, Any, Any, Any, Any, list[Any]]:
    who = principal()
    snap = snapshot(conn)
    p = engine.pipeline(snap, name)
    obj, perm = object_for(snap, who, p.object, verb)
    if verb != "read":
        who.require(obj.name, "read")
    table = snap.tables[obj.name]
    return who, snap, p, obj, perm, base_where(obj, table, who)


def _amounts_hidden(p: engine.Pipeline, perm: Any) -> bool:
    return any(f in perm.hidden for f in (p.amount_field, p.probability_field) if f)


def _columns(conn: Any, snap: Any, p: engine.Pipeline, perm: Any, where: list[Any]) -> list[dict[str, Any]]:
    cols = figures.columns(conn, snap.tables[p.object], p, where)
    if _amounts_hidden(p, perm):
        for c in cols:
            c["amount"] = c["weighted"] = None
    return cols


@bp.get("/pipelines")
def list_pipelines() -> Any:
    who, snap = principal(), snapshot()
    return jsonify({"items": [p.to_dict() for p in engine.pipelines(snap).values()
                              if p.object in snap.objects and who.permission(p.object).read]})


@bp.get("/pipelines/<name>/board")
def board(name: str) -> Any:
    svc = services()
    limit = int_arg("limit", 50, 1, MAX_CARDS)
    with reading(svc.engine) as conn:
        _, snap, p, obj, perm, where = _context(conn, name)
        table = snap.tables[obj.name]
        cols = _columns(conn, snap, p, perm, where)
        for col in cols:
            col["cards"] = [visible(svc.records.to_dict(obj, row), perm)
                            for row in figures.cards(conn, table, p, col["stage"], where, limit)]
    return jsonify({"pipeline": p.to_dict(), "columns": cols})


def _in_scope(conn: Any, snap: Any, p: engine.Pipeline, where: list[Any], ids: list[int]) -> None:
    table = snap.tables[p.object]
    found = conn.execute(select(func.count()).select_from(table).where(*where, table.c.id.in_(ids))).scalar_one()
    if found != len(set(ids)):
        raise NotFound("some of these records do not exist", [Problem("record_ids", "not_found", "out of scope")])


@bp.put("/pipelines/<name>/board/order")
def save_order(name: str) -> Any:
    svc = services()
    body = checked(ORDER)
    with svc.records.transaction() as conn:
        _, snap, p, _, _, where = _context(conn, name, "update")
        _in_scope(conn, snap, p, where, body["record_ids"])
        figures.save_order(conn, p, body["record_ids"])
    return jsonify({"pipeline": p.name, "record_ids": body["record_ids"]})


@bp.post("/pipelines/<name>/move")
def move(name: str) -> Any:
    """Stage and fields in one save; a refused move is 422 naming each missing field and the stage."""
    svc, who = services(), principal()
    body = checked(MOVE)
    with svc.records.transaction() as conn:
        _, snap, p, obj, perm, where = _context(conn, name, "update")
        record = svc.records.get(obj.name, body["record_id"], conn=conn)
        require_in_scope(who, obj, record)
        if not p.serves(record):
            raise ValidationError(f"{obj.name} {record['id']} is not in pipeline {p.name}",
                                  [Problem("record_id", "other_pipeline", str(record["id"]))])
        data = {**body.get("fields", {}), p.stage_field: body["stage"]}
        require_writable(who, obj, perm, [data])
        try:
            saved = svc.records.update(obj.name, record["id"], data, expected_version=body.get("version"),
                                       actor_id=who.id, conn=conn, reference_scope=row_filter(snap, who))
        except Conflict as exc:
            exc.code = "stale_version" if any(q.code == "stale_version" for q in exc.problems) else exc.code
            raise
        if body.get("order"):
            _in_scope(conn, snap, p, where, body["order"])
            figures.save_order(conn, p, body["order"])
        cols = _columns(conn, snap, p, perm, where)
    return jsonify({"record": visible(saved, perm), "columns": cols})


@bp.get("/pipelines/<name>/funnel")
def funnel(name: str) -> Any:
    svc = services()
    with reading(svc.engine) as conn:
        _, snap, p, obj, perm, where = _context(conn, name)
        if p.stage_field in perm.hidden:
            raise PermissionDenied("you may not see the stage", [Problem(p.stage_field, "forbidden_field", "")])
        return jsonify({"pipeline": p.name, "stages": figures.funnel(conn, snap.tables[obj.name], p, where)})


def _forecast_allowed(p: engine.Pipeline, perm: Any) -> None:
    if _amounts_hidden(p, perm) or p.stage_field in perm.hidden or (p.close_field and p.close_field in perm.hidden):
        raise PermissionDenied("the forecast reads fields you may not see",
                               [Problem("pipeline", "forbidden_field", "amount, probability, stage or close date")])


@bp.get("/pipelines/<name>/forecast")
def forecast(name: str) -> Any:
    svc = services()
    with reading(svc.engine) as conn:
        _, snap, p, obj, perm, where = _context(conn, name)
        _forecast_allowed(p, perm)
        months = figures.forecast(conn, snap.tables[obj.name], p, where, svc.settings.timezone)
    return jsonify({"pipeline": p.name, "months": months})


@bp.get("/pipelines/<name>/forecast/snapshots")
def forecast_snapshots(name: str) -> Any:
    """Weekly snapshots cover every record: only callers who see every record (scope all) read them."""
    svc = services()
    with reading(svc.engine) as conn:
        who, _, p, _obj, perm, _ = _context(conn, name)
        _forecast_allowed(p, perm)
        if not who.is_admin and perm.scope != "all":
            raise PermissionDenied("snapshots cover every record; your scope is narrower",
                                   [Problem("scope", "scope_too_narrow", perm.scope)])
        return jsonify({"pipeline": p.name, "items": figures.snapshots(conn, p)})


@bp.get("/stage-history/<object_name>/<rid:record_id>")
def stage_history(object_name: str, record_id: int) -> Any:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        obj, perm = object_for(snap, who, object_name)
        record = svc.records.get(obj.name, record_id, conn=conn)
        require_in_scope(who, obj, record)
        items = engine.history(conn, obj.name, record_id)
        hide_amount = any(p.amount_field in perm.hidden for p in engine.of_object(snap, obj.name) if p.amount_field)
        hide_probability = any(p.probability_field in perm.hidden for p in engine.of_object(snap, obj.name)
                               if p.probability_field)
        for item in items:
            item["amount"] = None if hide_amount else item["amount"]
            item["probability"] = None if hide_probability else item["probability"]
    return jsonify({"items": items})
