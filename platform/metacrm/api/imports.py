"""`/api/v1/imports`: upload, preview, start, follow and resume imports; error rows; import templates.

An import needs `create` on its object; columns may not be mapped to fields the caller may not
write. Imports run as background jobs (`imports.run`); `?wait=true` runs small ones in the request.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, send_file
from werkzeug.datastructures import FileStorage

from ..engines.imports.errorfile import write_error_file
from ..engines.imports.jobs import start_import
from ..engines.imports.mapping import delete_template, list_templates, save_template
from ..engines.imports.preview import preview
from ..engines.imports.runner import (
    create_import,
    get_import,
    job_dict,
    list_imports,
    outcome_rows,
    refuse_job,
    run_import,
)
from ..errors import PermissionDenied, Problem, UnsupportedMediaType, ValidationError
from ..store.db import reading
from .access import object_for
from .context import admin_only, principal, services, snapshot
from .exports import download_mimetype
from .jsonio import bool_arg, int_arg, json_body, parse_json

bp = Blueprint("imports", __name__)


def _upload_object() -> str:
    """The object an upload goes into (checked first: without multipart there is no form to read it from)."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send the file as multipart/form-data",
                                   [Problem("Content-Type", "unsupported_media_type", request.mimetype or "none")])
    return request.form.get("object", "")


def _upload() -> tuple[FileStorage, str]:
    encoding = request.form.get("encoding") or ""
    if len(encoding) > 32:
        raise ValidationError("no such encoding", [Problem("encoding", "unknown_encoding", encoding[:32])])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("send the spreadsheet as multipart field 'file'", [Problem("file", "required", "no file")])
    return upload, Path(upload.filename).name


def _form_json(name: str) -> dict[str, Any] | None:
    raw = request.form.get(name)
    return _mapping_shape(name, parse_json(raw, name)) if raw else None


def _header_row() -> int | None:
    """`header_row`: the header's row number as the sheet shows it (absent: found by matching labels)."""
    raw = (request.form.get("header_row") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        raise ValidationError("header_row is a row number from 1", [Problem("header_row", "type", raw[:16])])
    return int(raw)


def _import_options() -> dict[str, Any]:
    """The optional form fields of an import besides the mapping (see the OpenAPI document)."""
    value_map = _form_json("value_map")
    return {"header_row": _header_row(), "value_map": value_map,
            "unmapped": request.form.get("unmapped") or "keep", "keep": request.form.get("keep_field") or None,
            "phone_region": request.form.get("phone_region") or None, "sheet_name": _sheet(),
            "reimport": (request.form.get("reimport") or "").strip().lower() in ("true", "1")}


def _sheet() -> str | None:
    """`sheet`: the workbook sheet to read by name (absent: the first sheet with data)."""
    raw = request.form.get("sheet") or ""
    if len(raw) > 100:
        raise ValidationError("sheet is a sheet's name", [Problem("sheet", "max_length", "at most 100 characters")])
    return raw or None


def _mapping_shape(name: str, value: Any) -> dict[str, Any]:
    """`mapping` is {header: field or null}, `constants` {field: value}: anything else is a 422, not a crash."""
    if not isinstance(value, dict) or (name == "mapping" and not all(
            v is None or isinstance(v, str) for v in value.values())) or (name == "value_map" and not all(
            isinstance(v, dict) for v in value.values())):
        kind = {"mapping": "{column header: field name}", "value_map": "{field: {source value: option}}"}.get(
            name, "{field name: value}")
        raise ValidationError(f"{name} must be a JSON object {kind}", [Problem(name, "type", kind)])
    return value


def _saved(upload: FileStorage, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115  (removed by the caller)
    with handle:
        upload.save(handle)
    return Path(handle.name)


def _check_writable(perm: Any, fields: Any) -> None:
    blocked = [f for f in fields if f and not perm.writable(f)]
    if blocked:
        raise PermissionDenied("you may not write some mapped fields",
                               [Problem(f"mapping/{f}", "readonly", "you may not write this field") for f in blocked])


def _day_first() -> bool | None:
    """`day_first` form field: true (04/06/2023 is 4 June), false (April 6), absent (such dates are errors)."""
    raw = (request.form.get("day_first") or "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw not in ("true", "false", "1", "0"):
        raise ValidationError("day_first is true or false", [Problem("day_first", "type", raw[:16])])
    return raw in ("true", "1")


def _outside_scope(who: Any) -> str:
    """What an import does with a duplicate outside the importer's access: `report` it (default) or `import`
    the row anyway; only an administrator chooses `import`."""
    choice = request.form.get("outside_scope") or "report"
    if choice not in ("report", "import"):
        raise ValidationError("outside_scope is report or import", [Problem("outside_scope", "enum", choice[:32])])
    if choice == "import":
        who.require_admin()
    return choice


def _job_for(job_id: int) -> dict[str, Any]:
    who, svc = principal(), services()
    with reading(svc.engine) as conn:
        job = get_import(conn, job_id)
    object_for(snapshot(), who, job["object"], "create")
    if not who.is_admin and job["created_by"] != who.id:
        raise PermissionDenied("this import is someone else's", [Problem("import", "not_yours", str(job_id))])
    return job


@bp.post("/imports/preview")
def import_preview() -> Any:
    """Headers, first rows, row count and the suggested mapping of an upload (nothing is stored)."""
    svc, who = services(), principal()
    object_name = _upload_object()
    object_for(snapshot(), who, object_name, "create")
    upload, filename = _upload()
    path = _saved(upload, Path(filename).suffix)
    try:
        return jsonify(preview(svc, path, filename, object_name, request.form.get("encoding") or None,
                               int_arg("rows", 10, 1, 100), header_row=_header_row(),
                               value_map=_form_json("value_map"), sheet_name=_sheet()))
    finally:
        path.unlink(missing_ok=True)


@bp.post("/imports")
def import_start() -> Any:
    """Upload a file and start importing it: 202 with the job (or 200 with the finished job if wait=true)."""
    svc, who = services(), principal()
    object_name = _upload_object()
    obj, perm = object_for(snapshot(), who, object_name, "create")
    upload, filename = _upload()
    path = _saved(upload, Path(filename).suffix)
    try:
        job = create_import(svc, path, filename, obj.name, mapping=_form_json("mapping"),
                            template=request.form.get("template") or None, constants=_form_json("constants"),
                            encoding=request.form.get("encoding") or None, actor_id=who.id,
                            on_duplicate=request.form.get("on_duplicate") or None,
                            outside_scope=_outside_scope(who), day_first=_day_first(),
                            timezone=request.form.get("timezone") or None, **_import_options())
    finally:
        path.unlink(missing_ok=True)
    try:
        _check_writable(perm, [*job["mapping"].values(), *job["constants"]])
    except PermissionDenied as exc:
        with svc.engine.begin() as conn:
            refuse_job(conn, job["id"], f"refused: {exc}")
        raise
    if bool_arg("wait"):
        return jsonify(run_import(svc, job["id"]))
    start_import(svc, job["id"])
    return jsonify(job), 202


@bp.get("/imports")
def import_list() -> Any:
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        items = list_imports(conn, request.args.get("object") or None, int_arg("limit", 50, 1, 500))
    return jsonify({"items": [j for j in items if who.is_admin or j["created_by"] == who.id]})


@bp.get("/imports/<rid:job_id>")
def import_status(job_id: int) -> Any:
    """The job with its progress: rows_done / total_rows, percent, rate (rows/s), counters."""
    return jsonify(job_dict(_job_for(job_id)))


@bp.post("/imports/<rid:job_id>/resume")
def import_resume(job_id: int) -> Any:
    """Continue an interrupted import after its last committed batch."""
    svc = services()
    job = _job_for(job_id)
    if job["status"] == "refused":
        raise PermissionDenied("this import was refused and cannot be resumed; start a new one",
                               [Problem("import", "refused", job["error"] or "")])
    if bool_arg("wait"):
        return jsonify(run_import(svc, job["id"]))
    start_import(svc, job["id"])
    return jsonify(job_dict(job)), 202


@bp.get("/imports/<rid:job_id>/errors")
def import_errors(job_id: int) -> Any:
    """The failed rows as uploaded plus an error column (.xlsx, or CSV with ?format=csv), to fix and re-import."""
    svc, who = services(), principal()
    _job_for(job_id)
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    buffer = io.BytesIO()
    with reading(svc.engine) as conn:
        write_error_file(conn, job_id, buffer, request.args.get("language") or who.language, fmt)
    buffer.seek(0)
    return send_file(buffer, mimetype=download_mimetype(fmt), as_attachment=True,
                     download_name=f"import-{job_id}-errors.{fmt}")


@bp.get("/imports/<rid:job_id>/outcomes")
def import_outcomes(job_id: int) -> Any:
    """What dedupe did with rows: skipped, merged or flagged, with the matching record and rule."""
    svc = services()
    _job_for(job_id)
    with reading(svc.engine) as conn:
        return jsonify({"items": outcome_rows(conn, job_id, int_arg("limit", 1000, 1, 10000))})


@bp.get("/import-templates")
def template_list() -> Any:
    """Templates of the objects the caller may import into (a template names the fields it fills)."""
    svc, who = services(), principal()
    with reading(svc.engine) as conn:
        items = list_templates(conn, request.args.get("object") or None)
    return jsonify({"items": [t for t in items if who.permission(t["object"]).create]})


@bp.put("/import-templates/<name>")
def template_save(name: str) -> Any:
    """Save {object, mapping, constants, value_map, label} as a template (needs create on the object)."""
    svc, who = services(), principal()
    body = json_body()
    obj, perm = object_for(snapshot(), who, str(body.get("object", "")), "create")
    mapping = _mapping_shape("mapping", body.get("mapping") or {})
    constants = _mapping_shape("constants", body.get("constants") or {})
    label = body.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 200):
        raise ValidationError("label is text of at most 200 characters", [Problem("label", "type", "text, <= 200")])
    value_map = _mapping_shape("value_map", body.get("value_map") or {})
    _check_writable(perm, [*mapping.values(), *constants])
    with svc.engine.begin() as conn:
        return jsonify(save_template(conn, name, obj, mapping, constants, label, who.id, who.is_admin, value_map))


@bp.delete("/import-templates/<name>")
@admin_only
def template_delete(name: str) -> Any:
    svc = services()
    with svc.engine.begin() as conn:
        delete_template(conn, name)
    return "", 204
