"""`/api/v1/exports/{object}`: a filtered list or a segment as .xlsx or CSV, within the caller's permissions.

Hidden fields are never written, rows outside the caller's scope never appear, filters may not
read hidden fields, and labels are in the caller's language (or ?language=).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request

from ..engines.exports import export_records
from ..errors import NotFound, Problem, ValidationError
from .access import object_for, row_filter
from .context import principal, services, snapshot
from .jsonio import int_arg
from .listing import base_where, compile_rule, parse_rule, parse_sort

bp = Blueprint("exports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"xlsx": XLSX, "csv": "text/csv; charset=utf-8"}
"""The one place for the content types of the files the API hands out (exports, error rows)."""
OCTET = "application/octet-stream"


def download_mimetype(fmt: str) -> str:
    """The content type of a downloaded file: its own type, or `application/octet-stream` (the same
    bytes) for a client that asks for that (generated clients read only that one as bytes)."""
    own = MIMETYPES[fmt]
    best = request.accept_mimetypes.best_match([own.split(";")[0], OCTET], default=own)
    return OCTET if best == OCTET else own


@bp.get("/exports/<object_name>")
def export(object_name: str) -> Any:
    """?format=xlsx|csv &filter=<rule> &segment=<name> &fields=a,b &sort=-a,b &language=zh &limit=N"""
    svc, who = services(), principal()
    fmt = request.args.get("format", "xlsx")
    if fmt not in MIMETYPES:
        raise ValidationError("format is xlsx or csv", [Problem("format", "enum", fmt)])
    snap = snapshot()
    obj, perm = object_for(snap, who, object_name)
    table = snap.tables[obj.name]
    where = base_where(obj, table, who)
    segment = request.args.get("segment")
    if segment:
        doc = snap.definitions.get("segment", segment)
        if doc is None or doc.get("object") != obj.name:
            raise NotFound(f"no segment '{segment[:64]}' on {obj.name}", [Problem("segment", "not_found", segment[:64])])
        where.append(compile_rule(doc["rule"], obj, snap, who, svc.settings.timezone, "segment"))
    rule = parse_rule(request.args.get("filter"))
    if rule is not None:
        where.append(compile_rule(rule, obj, snap, who, svc.settings.timezone))
    fields = [f for f in request.args.get("fields", "").split(",") if f] or None
    raw_sort = request.args.get("sort")
    sort = parse_sort(raw_sort, obj, perm) if raw_sort else ()  # by id when not asked
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (closed by _stream)
    try:
        export_records(svc, obj.name, spool, fmt, fields=fields,
                       language=request.args.get("language") or who.language, hidden_fields=perm.hidden,
                       where=where[1:], row_filter=row_filter(snap, who),
                       hidden_of=lambda name: who.permission(name).hidden,
                       limit=int_arg("limit", 0, 0, 10_000_000) or None, sort=sort)
    except BaseException:
        spool.close()
        raise
    return spooled_download(spool, fmt, f"{obj.name}.{fmt}")


def spooled_download(spool: Any, fmt: str, filename: str) -> Response:
    """A written spool file as a streamed download (the spool is closed once sent)."""
    spool.seek(0)
    return Response(_stream(spool), mimetype=download_mimetype(fmt),
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _stream(spool: Any) -> Iterator[bytes]:
    try:
        while chunk := spool.read(1 << 16):
            yield chunk
    finally:
        spool.close()
