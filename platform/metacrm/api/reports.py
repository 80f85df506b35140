"""`/api/v1/reports` and `/api/v1/dashboards`: run, preview, drill into and export reports.

Every run goes through engines.reports, which builds its WHERE clause with the list endpoint's
own scope function (engines.scope), so a chart shows only what the caller's list would show. A
report reading a field the caller may not see answers 403 naming it; on a dashboard that widget
alone is refused. A drill-down answers the rule to send to `GET /records/{object}?filter=`.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from flask import Blueprint, jsonify, request

from ..engines import reports as engine
from ..errors import MetaCRMError, NotFound, PermissionDenied, Problem, ValidationError
from ..store.db import reading
from .context import principal, services, snapshot
from .exports import MIMETYPES, spooled_download
from .jsonio import json_body

bp = Blueprint("reports", __name__)


def _body() -> dict[str, Any]:
    body = json_body() if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise ValidationError("the body is a JSON object", [Problem("/", "type", "an object")])
    return body


def _params(body: dict[str, Any]) -> dict[str, Any]:
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise ValidationError("parameters must be an object", [Problem("/parameters", "type", "an object")])
    return params


def _readable(doc: dict[str, Any], who: Any) -> bool:
    try:
        engine.require_readable(doc, who)
    except PermissionDenied:
        return False
    return True


@bp.get("/reports")
def list_reports() -> Any:
    who, snap = principal(), snapshot()
    items = [doc for _, doc in snap.definitions.items("report")
             if doc.get("object") in snap.objects and _readable(doc, who)]
    return jsonify({"items": items})


@bp.get("/reports/<name>")
def get_report(name: str) -> Any:
    who, snap = principal(), snapshot()
    doc = engine.report_doc(snap, name)
    engine.require_readable(doc, who)
    return jsonify(doc)


@bp.put("/reports/<name>")
def put_report(name: str) -> Any:
    """Save a report. Its author must see every field it reads (403 naming them); a user who is not
    an administrator may change only the reports they saved."""
    svc, who, snap = services(), principal(), snapshot()
    doc = _body()
    if doc.get("name") != name:
        raise ValidationError("the document's name does not match the URL",
                              [Problem("/name", "name_mismatch", f"must be '{name[:64]}'")])
    existing = snap.definitions.get("report", name)
    if not who.is_admin:
        if existing is not None and existing.get("author") != who.username:
            raise PermissionDenied("only its author or an administrator may change this report",
                                   [Problem("/name", "not_author", name[:64])])
        doc = {**doc, "author": who.username}
    engine.validate_report(doc, snap)
    engine.require_readable({**doc, "visible_to": None}, who)
    plan = svc.metadata.apply([("report", name, doc)], actor_id=who.id, note="reports api")
    return jsonify(plan.to_dict())


def _run(doc: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        return engine.run_report(conn, snapshot(conn), doc, who, _params(body), tz=svc.settings.timezone,
                                 language=str(body.get("language") or who.language), limit=body.get("limit"),
                                 use_cache=body.get("cache", True) is not False)


@bp.post("/reports/<name>/run")
def run_report(name: str) -> Any:
    body = _body()
    return jsonify(_run(engine.report_doc(snapshot(), name), body))


@bp.post("/reports/preview")
def preview_report() -> Any:
    """Run an unsaved definition (the builder's live preview), checked as a save would check it."""
    body = _body()
    doc = body.get("definition")
    if not isinstance(doc, dict):
        raise ValidationError("send the report as 'definition'", [Problem("/definition", "required", "an object")])
    doc = {"name": "preview", "label": {"en": "Preview"}, **doc}
    try:
        engine.validate_report(doc, snapshot())
    except ValidationError as exc:
        raise ValidationError(str(exc), [Problem("/definition" + p.field if p.field != "/" else "/definition",
                                                 p.code, p.message) for p in exc.problems]) from None
    return jsonify(_run(doc, {**body, "cache": False}))


@bp.post("/reports/<name>/drill")
def drill_report(name: str) -> Any:
    """{parameters, cell: {dimension: value}, measure} -> the rule whose list is the cell's rows."""
    svc, who = services(), principal()
    body = _body()
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        doc = engine.report_doc(snap, name)
        measure = body.get("measure")
        if measure is not None and not isinstance(measure, str):
            raise ValidationError("measure is a measure's name", [Problem("/measure", "type", "a string")])
        rule = engine.drill_rule(conn, snap, doc, who, _params(body), body.get("cell") or {}, measure,
                                 tz=svc.settings.timezone)
    return jsonify({"object": doc["object"], "rule": rule,
                    "list": f"/api/v1/records/{doc['object']}?count=true&filter=" + json.dumps(rule, separators=(",", ":"))})


@bp.get("/reports/<name>/export")
def export_report(name: str) -> Any:
    """?format=xlsx|csv &parameters=<JSON object> &language=zh"""
    svc, who = services(), principal()
    fmt = request.args.get("format", "xlsx")
    if fmt not in MIMETYPES:
        raise ValidationError("format is xlsx or csv", [Problem("format", "enum", fmt[:16])])
    try:
        params = json.loads(request.args.get("parameters") or "{}")
    except ValueError:
        raise ValidationError("parameters is a JSON object", [Problem("parameters", "invalid_json", "JSON")]) from None
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (closed by _stream)
    try:
        with reading(svc.engine) as conn:
            snap = snapshot(conn)
            doc = engine.report_doc(snap, name)
            engine.export_report(conn, snap, doc, who, spool, fmt, params, tz=svc.settings.timezone,
                                 language=request.args.get("language") or who.language,
                                 sheet_rows=getattr(svc.settings, "sheet_rows", None))
    except BaseException:
        spool.close()
        raise
    return spooled_download(spool, fmt, f"{name}.{fmt}")


# --- dashboards -------------------------------------------------------------------------------

def _dashboard(snap: Any, name: str) -> dict[str, Any]:
    doc = snap.definitions.get("dashboard", name)
    if doc is None:
        raise NotFound(f"no dashboard named '{name[:64]}'", [Problem("dashboard", "not_found", name[:64])])
    return doc


def _mine(doc: dict[str, Any], who: Any) -> bool:
    return who.is_admin or not doc.get("roles") or bool(set(doc["roles"]) & set(who.roles))


@bp.get("/dashboards")
def list_dashboards() -> Any:
    who, snap = principal(), snapshot()
    return jsonify({"items": [doc for _, doc in snap.definitions.items("dashboard") if _mine(doc, who)]})


@bp.post("/dashboards/<name>/run")
def run_dashboard(name: str) -> Any:
    """Every widget with the caller's scope; global `filters` go to each report's parameter of that
    name. A widget the caller may not see is answered with its problem, the others still run."""
    svc, who = services(), principal()
    body = _body()
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise ValidationError("filters must be an object", [Problem("/filters", "type", "an object")])
    widgets = []
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        doc = _dashboard(snap, name)
        for i, w in enumerate(doc["widgets"]):
            item: dict[str, Any] = {**w, "index": i}
            try:
                report = engine.report_doc(snap, w["report"])
                declared = {p["name"] for p in report.get("parameters") or []}
                params = {k: v for k, v in filters.items() if k in declared}
                item["result"] = engine.run_report(conn, snap, report, who, params, tz=svc.settings.timezone,
                                                   language=str(body.get("language") or who.language))
            except MetaCRMError as exc:
                item["problem"] = {"status": exc.status, "code": exc.code, "detail": str(exc),
                                   "errors": [p.to_dict() for p in exc.problems]}
            widgets.append(item)
    return jsonify({"dashboard": doc, "widgets": widgets})
