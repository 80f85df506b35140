"""`POST /exports/{object}` (a background export), `GET /export-jobs/{id}` (progress) and
`GET /export-jobs/{id}/file` (the file): only the user who started an export sees it or its file.
The rule is checked now (shape, fields the caller may see); scope and hidden fields apply when it runs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, send_file

from ..engines import export_jobs as engine
from ..errors import BadRequest, Problem, ValidationError
from .access import object_for
from .context import principal, services, snapshot
from .exports import MIMETYPES, download_mimetype
from .jsonio import json_body
from .listing import compile_rule, parse_sort

bp = Blueprint("export_jobs", __name__)


@bp.post("/exports/<object_name>")
def start(object_name: str) -> Any:
    """Body `{"format": "xlsx"|"csv", "rule": <rule>|null, "columns": [...]|null, "sort": "-a,b"|null}` -> 202."""
    svc, who = services(), principal()
    body = json_body()
    snap = snapshot()
    obj, perm = object_for(snap, who, object_name)
    unknown = sorted(set(body) - {"format", "rule", "columns", "sort", "language"})
    fmt, rule, columns = body.get("format", "xlsx"), body.get("rule"), body.get("columns")
    problems = [Problem(k, "unknown", "not an export option") for k in unknown]
    if fmt not in MIMETYPES:
        problems.append(Problem("format", "enum", "xlsx or csv"))
    if rule is not None and not isinstance(rule, dict):
        problems.append(Problem("rule", "type", "a rule (JSON object) or null"))
    if columns is not None and (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)):
        problems.append(Problem("columns", "type", "a list of field names or null"))
    elif columns:
        bad = [c for c in columns if c in perm.hidden or (c not in obj.fields and c not in ("id", "created_at",
                                                                                           "updated_at", "owner_id"))]
        problems += [Problem("columns", "unknown_field", c[:64]) for c in bad]
    raw_sort, sort = body.get("sort"), None
    if raw_sort is not None and not isinstance(raw_sort, str):
        problems.append(Problem("sort", "type", "like '-created_at,name' or null"))
    elif raw_sort:
        try:
            sort = [[name, desc] for name, desc in parse_sort(raw_sort, obj, perm)]
        except BadRequest as exc:
            problems += exc.problems
    if problems:
        raise ValidationError("invalid export request", problems)
    if rule is not None:
        compile_rule(rule, obj, snap, who, svc.settings.timezone, "rule")
    language = body.get("language") if body.get("language") in ("en", "zh") else who.language
    return jsonify(engine.start_export(svc, who.id, obj.name, fmt, rule, columns or None, language,
                                           sort)), 202


@bp.get("/export-jobs/<rid:export_id>")
def status(export_id: int) -> Any:
    return jsonify(engine.get_export(services(), export_id, principal().id))


@bp.get("/export-jobs/<rid:export_id>/file")
def download(export_id: int) -> Any:
    path, row = engine.finished_file(services(), export_id, principal().id)
    return send_file(path, mimetype=download_mimetype(row.format), as_attachment=True,
                     download_name=f"{row.object}.{row.format}")
