"""OpenAPI paths of the data factory (api/imports.py, api/exports.py, api/dedupe.py), per caller.

As with the record paths, a caller is offered only what they may do: the `object` of an upload
lists the objects they may create records in, exports the objects they may read, and the
duplicate review the objects that have a dedupe definition and the verbs its endpoints need.
A path with nothing to offer is left out.
"""

from __future__ import annotations

from typing import Any

from ..auth.principal import Principal
from ..store.definitions import Snapshot
from .exports import XLSX
from .openapi_records import MAX_ID, ok, operation

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
MAYBE_ID = {"type": ["integer", "null"]}
COUNT = {"type": "integer", "minimum": 0}
CELL = {"type": ["string", "number", "boolean", "null"]}
MAPPING = {"type": "object", "description": "{column header: field name} (null or '' leaves a column out)",
           "additionalProperties": {"type": ["string", "null"]}}
CONSTANTS = {"type": "object", "description": "{field name: value} for every imported row"}
NOTES = {"type": "array", "description": "things the import did that the user should know, e.g. time_dropped: "
         "a date field fed with date-times keeps the date only", "items": {
             "type": "object", "required": ["field", "code", "rows", "message"], "properties": {
                 "field": {"type": "string"}, "header": {"type": "string"}, "code": {"enum": ["time_dropped"]},
                 "rows": COUNT, "message": {"type": "string"}}}}
COUNTERS = ("created", "failed", "skipped", "merged", "flagged", "already_imported")
JOB = {"type": "object", "required": ["id", "object", "status", "total_rows", "rows_done", "percent"], "properties": {
    "id": ID, "object": {"type": "string"}, "filename": {"type": "string"}, "checksum": {"type": "string"},
    "kind": {"enum": ["xlsx", "xls", "csv"]}, "encoding": {"type": ["string", "null"]}, "sheet": {"type": ["string", "null"]},
    "mapping": MAPPING, "constants": CONSTANTS, "template": {"type": ["string", "null"]},
    "options": {"type": "object", "description": "the import's options: headers, header_row, value_map, "
                "keep_field, unmapped (columns mapped to no field), unmapped_kept, phone_region, day_first, "
                "timezone, reimport, on_duplicate, batch_size"},
    "status": {"enum": ["pending", "running", "done", "failed", "refused"]},
    "total_rows": COUNT, "rows_done": COUNT, "last_row": COUNT, **dict.fromkeys(COUNTERS, COUNT),
    "seconds": {"type": ["object", "null"]}, "error": {"type": ["string", "null"]}, "created_by": MAYBE_ID,
    "created_at": TIME, "started_at": MAYBE_TIME, "finished_at": MAYBE_TIME, "updated_at": TIME,
    "rate": {"type": ["number", "null"], "description": "rows per second"}, "notes": NOTES,
    "percent": {"type": "number", "minimum": 0, "maximum": 100}}}
PREVIEW = {"type": "object", "required": ["headers", "rows", "total_rows", "suggested_mapping", "fields"],
           "properties": {
               "headers": {"type": "array", "items": {"type": "string"}},
               "rows": {"type": "array", "items": {"type": "array", "items": CELL}}, "total_rows": COUNT,
               "encoding": {"type": ["string", "null"]}, "sheet": {"type": ["string", "null"]},
               "sheets": {"type": "array", "items": {"type": "string"},
                          "description": "every sheet of the workbook (send sheet to read another one)"},
               "suggested_mapping": {"type": "object", "additionalProperties": {"type": "string"}},
               "header_row": {"type": "integer", "minimum": 1, "description": "the header's row number (title "
                              "rows above it are skipped); send header_row to choose another"},
               "header_guessed": {"type": "boolean"}, "notes": NOTES,
               "mapping_details": {"type": "array", "items": {
                   "type": "object", "required": ["header", "field", "match", "confirm"], "properties": {
                       "header": {"type": "string"}, "field": {"type": "string"},
                       "match": {"enum": ["exact", "synonym", "part", "secondary", "similar"]},
                       "part": {"enum": ["family", "given"]}, "score": {"type": "number"},
                       "confirm": {"type": "boolean", "description": "a loose guess for the user to confirm"},
                       "samples": {"type": "array", "items": {"type": "string"}}}}},
               "unmapped_columns": {"type": "array", "items": {
                   "type": "object", "required": ["header", "decision"], "properties": {
                       "header": {"type": "string"}, "samples": {"type": "array", "items": {"type": "string"}},
                       "decision": {"enum": ["keep", "ignore"]}, "keep_field": {"type": ["string", "null"]}}}},
               "keep_field": {"type": ["string", "null"], "description": "the field keeping unmapped columns"},
               "error_columns": {"type": "array", "items": {"type": "string"}},
               "missing_required": {"type": "array", "items": {"type": "string"},
                                    "description": "required fields no column fills: the import is refused"},
               "unmapped_values": {"type": "array", "items": {
                   "type": "object", "required": ["header", "field", "values"], "properties": {
                       "header": {"type": "string"}, "field": {"type": "string"},
                       "values": {"type": "array", "items": {"type": "object", "required": ["value", "count"],
                                                             "properties": {"value": {"type": "string"},
                                                                            "count": COUNT}}}}}},
               "fields": {"type": "array", "items": {"type": "object", "required": ["name", "type"], "properties": {
                   "name": {"type": "string"}, "type": {"type": "string"}, "label": {"type": "object"},
                   "required": {"type": "boolean"}, "options": {"type": "array", "items": {"type": "string"}}}}}}}
VALUE_MAP = {"type": "object", "description": "{field: {source value: option}}, e.g. {status: {Open: new}}",
             "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}}
OUTCOME = {"type": "object", "required": ["row_number", "action"], "properties": {
    "job_id": ID, "row_number": {"type": "integer"},
    "action": {"enum": ["skipped", "merged", "flagged", "outside_access"]},
    "record_id": MAYBE_ID, "detail": {"type": ["object", "null"]}}}
TEMPLATE = {"type": "object", "required": ["name", "object", "mapping", "constants"], "properties": {
    "name": {"type": "string"}, "object": {"type": "string"}, "label": {"type": ["string", "null"]},
    "mapping": MAPPING, "constants": CONSTANTS, "value_map": VALUE_MAP, "created_by": MAYBE_ID,
    "updated_at": TIME}}
SCAN = {"type": "object", "required": ["object", "pairs", "queued"], "properties": {
    "object": {"type": "string"}, "definition": {"type": "string"}, "records": COUNT, "pairs": COUNT,
    "queued": COUNT, "group_count": COUNT, "groups": {"type": "array", "items": {"type": "array", "items": ID}},
    "comparisons": COUNT, "seconds": {"type": "number"}, "by_rule": {"type": "object",
                                                                     "additionalProperties": COUNT}}}
STATUSES = ["pending", "merged", "dismissed"]
RECORD = {"type": ["object", "null"], "description": "the record without the fields hidden from you (null: purged)"}
CANDIDATE = {"type": "object", "required": ["id", "object", "left_id", "right_id", "score", "status"], "properties": {
    "id": ID, "object": {"type": "string"}, "left_id": ID, "right_id": ID, "score": {"type": "number"},
    "rules": {"type": "array", "items": {"type": "string"}}, "fields": {"type": "array", "items": {"type": "string"}},
    "status": {"enum": STATUSES}, "source": {"type": "string"}, "created_at": TIME, "decided_at": MAYBE_TIME,
    "decided_by": MAYBE_ID, "merge_id": MAYBE_ID, "left": RECORD, "right": RECORD}}
MERGE = {"type": "object", "required": ["id", "object", "survivor_id", "merged_ids"], "properties": {
    "id": ID, "object": {"type": "string"}, "survivor_id": ID, "merged_ids": {"type": "array", "items": ID},
    "before": {"type": "object"}, "after": {"type": "object"},
    "repointed": {"type": "array", "description": "[object, id, field, old value] of each related record moved",
                  "items": {"type": "array", "items": {"type": ["string", "integer", "null"]}}},
    "tags_added": {"type": ["array", "null"], "items": {"type": "string"}}, "source": {"type": "string"},
    "note": {"type": ["string", "null"]}, "actor_id": MAYBE_ID, "created_at": TIME, "undone_at": MAYBE_TIME,
    "undone_by": MAYBE_ID}}


def _items(item: dict[str, Any], **more: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": item}, **more}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, **({"description": description} if description else {})}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def file_response(description: str) -> dict[str, Any]:
    """A downloaded spreadsheet: .xlsx, or CSV (UTF-8 with BOM) when asked; with `Accept:
    application/octet-stream` the same bytes so typed (listed first: generators read that one as bytes,
    a text/csv or vendor type as text or nothing)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"description": description, "content": {"application/octet-stream": binary, XLSX: binary,
                                                    "text/csv": binary}}


WAIT = _query("wait", {"type": "boolean"}, "run in the request and answer 200 with the result instead of 202")
LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 500})


def _upload(objects: list[str], *extra: str) -> dict[str, Any]:
    """The multipart form of an upload: the file and the object, and for an import its mapping."""
    props: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": "an .xlsx or .csv file"},
        "object": {"enum": objects},
        "encoding": {"type": "string", "maxLength": 32, "description": "of a CSV; detected when left out"}}
    more = {"mapping": {"type": "string", "description": "JSON: {column header: field name}"},
            "constants": {"type": "string", "description": "JSON: {field name: value}"},
            "template": {"type": "string", "description": "an import template's name"},
            "on_duplicate": {"enum": ["merge", "skip", "flag", "none"],
                             "description": "instead of what the dedupe definition says"},
            "header_row": {"type": "string", "pattern": "^[0-9]+$",
                           "description": "the header's row number (default: found below title rows)"},
            "value_map": {"type": "string", "description": "JSON: {field: {source value: option}}"},
            "unmapped": {"enum": ["keep", "ignore"], "description": "columns mapped to no field: kept in the "
                         "more-information field (default) or left out"},
            "keep_field": {"type": "string", "description": "the text field keeping unmapped columns"},
            "phone_region": {"type": "string", "description": "region of phones without a country code (CN, US)"},
            "sheet": {"type": "string", "maxLength": 100,
                      "description": "the workbook sheet to read, by name (default: the first with data)"},
            "reimport": {"enum": ["true", "false"], "description": "import rows already written by an earlier "
                         "import of the same file again"},
            "day_first": {"enum": ["true", "false", "auto"], "description": "date order of 04/06/2023"},
            "timezone": {"type": "string", "description": "time zone of naive times (default: the installation's)"}}
    props.update({k: more[k] for k in extra})
    return {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file", "object"], "properties": props},
        "encoding": {"file": {"contentType": f"{XLSX}, text/csv, application/octet-stream"}}}}


def import_paths(importable: list[str]) -> dict[str, Any]:
    """Uploads, jobs and templates (needs `create` on the object imported into)."""
    job_id = _path("job_id", ID)
    name = _path("name", {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"})
    upload_errors = (400, 401, 403, 404, 413, 415, 422)
    return {
        "/imports/preview": {"post": operation(
            "preview_import", "imports", "Headers, first rows, row count and suggested mapping (nothing stored)",
            ok("Preview", PREVIEW), upload_errors, content=_upload(importable, "header_row", "value_map", "sheet"),
            params=[_query("rows", {"type": "integer", "minimum": 1, "maximum": 100})])},
        "/imports": {
            "post": operation(
                "start_import", "imports", "Upload a file and import it (a background job)",
                ok("Queued", JOB), upload_errors, status="202", more={"200": ok("Done (wait=true)", JOB)},
                content=_upload(importable, "mapping", "constants", "template", "on_duplicate", "header_row",
                                "value_map", "unmapped", "keep_field", "phone_region", "reimport", "day_first",
                                "timezone", "sheet"), params=[WAIT]),
            "get": operation("list_imports", "imports", "My imports (every import for admins), newest first",
                             ok("Imports", _items(JOB)), (400, 401),
                             params=[_query("object", {"type": "string"}), LIMIT])},
        "/imports/{job_id}": {"get": operation(
            "get_import", "imports", "An import with its progress and counters", ok("Import", JOB),
            (401, 403, 404), params=[job_id])},
        "/imports/{job_id}/resume": {"post": operation(
            "resume_import", "imports", "Continue an interrupted import after its last committed batch",
            ok("Queued", JOB), (400, 401, 403, 404, 422), status="202", more={"200": ok("Done (wait=true)", JOB)},
            params=[job_id, WAIT])},
        "/imports/{job_id}/errors": {"get": operation(
            "import_errors", "imports", "The failed rows as uploaded plus an error column, to fix and re-import",
            file_response("The error rows"), (400, 401, 403, 404), params=[
                job_id, _query("format", {"enum": ["xlsx", "csv"]}), _query("language", {"type": "string"})])},
        "/imports/{job_id}/outcomes": {"get": operation(
            "import_outcomes", "imports", "Rows dedupe skipped, merged or flagged, with the matching record",
            ok("Outcomes", _items(OUTCOME)), (400, 401, 403, 404),
            params=[job_id, _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000})])},
        "/import-templates": {"get": operation(
            "list_import_templates", "imports", "Import templates of the objects I may import into",
            ok("Templates", _items(TEMPLATE)), (401,), params=[_query("object", {"type": "string"})])},
        "/import-templates/{name}": {
            "put": operation(
                "save_import_template", "imports", "Save a column mapping and constants as a template",
                ok("Saved", TEMPLATE), (400, 401, 403, 404, 413, 415, 422), {
                    "type": "object", "required": ["object"], "properties": {
                        "object": {"enum": importable}, "mapping": MAPPING, "constants": CONSTANTS,
                        "value_map": VALUE_MAP, "label": {"type": ["string", "null"], "maxLength": 200}}}, params=[name]),
            "delete": operation("delete_import_template", "imports", "Delete a template (admins)",
                                {"description": "Deleted"}, (401, 403, 404), params=[name], status="204")},
    }


def export_paths(readable: list[str]) -> dict[str, Any]:
    return {"/exports/{object}": {"get": operation(
        "export", "exports", "Records (a filter or a segment) as a spreadsheet, within my permissions",
        file_response("The spreadsheet (hidden fields left out, labels in my language)"), (400, 401, 403, 404, 422),
        params=[_path("object", {"enum": readable}), _query("format", {"enum": ["xlsx", "csv"]}),
                _query("filter", {"type": "string"}, "a rule (JSON)"), _query("segment", {"type": "string"}),
                _query("fields", {"type": "string"}, "comma-separated fields"), _query("language", {"type": "string"}),
                _query("limit", {"type": "integer", "minimum": 0, "maximum": 10_000_000})])}}


def dedupe_paths(readers: list[str], mergers: list[str], deciders: list[str]) -> dict[str, Any]:
    """The review queue over objects with a dedupe definition: read it, decide pairs, merge, undo."""
    paths: dict[str, Any] = {}
    if readers:
        obj = _path("object", {"enum": readers})
        paths["/dedupe/{object}/candidates"] = {"get": operation(
            "dedupe_candidates", "dedupe", "Candidate pairs, best score first, with both records",
            ok("Queue", _items(CANDIDATE, counts={"type": "object", "required": STATUSES,
                                                  "properties": dict.fromkeys(STATUSES, COUNT)})),
            (400, 401, 403, 404, 422), params=[obj, _query("status", {"enum": STATUSES}), LIMIT,
                                               _query("after", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                                                      "the last id of the previous page")])}
        paths["/dedupe/{object}/merges"] = {"get": operation(
            "dedupe_merges", "dedupe", "Merge history, newest first", ok("Merges", _items(MERGE)),
            (400, 401, 403, 404), params=[obj, _query("record", ID, "merges into this survivor"), LIMIT])}
    if mergers:
        obj = _path("object", {"enum": mergers})
        optional = {"type": "object", "properties": {"survivor_id": ID}}
        paths["/dedupe/{object}/scan"] = {"post": operation(
            "dedupe_scan", "dedupe", "Find duplicate pairs in the pool and queue them (a background job)",
            ok("Queued", {"type": "object", "required": ["job_id"], "properties": {"job_id": {"type": "string"}}}),
            (400, 401, 403, 404), status="202", more={"200": ok("Scanned (wait=true)", SCAN)}, params=[obj, WAIT])}
        paths["/dedupe/{object}/merge"] = {"post": operation(
            "dedupe_merge", "dedupe", "Merge records into a survivor", ok("Merged", MERGE),
            (400, 401, 403, 404, 409, 415, 422), {"type": "object", "required": ["survivor_id", "ids"], "properties": {
                "survivor_id": ID, "ids": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ID}}},
            params=[obj])}
        paths["/dedupe/candidates/{candidate_id}/merge"] = {"post": operation(
            "dedupe_merge_candidate", "dedupe", "Merge a pair (the survivor defaults to the definition's choice)",
            ok("Merged", MERGE), (400, 401, 403, 404, 409, 415, 422), optional, body_required=False,
            params=[_path("candidate_id", ID)])}
        paths["/dedupe/merges/{merge_id}/undo"] = {"post": operation(
            "dedupe_undo", "dedupe", "Undo a merge (force: although the survivor changed since)",
            ok("Undone", MERGE), (400, 401, 403, 404, 409, 415, 422),
            {"type": "object", "properties": {"force": {"type": "boolean"}}}, body_required=False,
            params=[_path("merge_id", ID)])}
    if deciders:
        paths["/dedupe/candidates/{candidate_id}/dismiss"] = {"post": operation(
            "dedupe_dismiss", "dedupe", "Dismiss a pair: never proposed again", ok("Dismissed", CANDIDATE),
            (401, 403, 404, 409), params=[_path("candidate_id", ID)])}
    return paths


def data_factory_paths(snap: Snapshot, who: Principal) -> dict[str, Any]:
    """The data factory's paths this caller may use, with the objects they may use them on."""
    def allowed(names: Any, *verbs: str) -> list[str]:
        return sorted(n for n in names if all(who.permission(n).allows(v) for v in verbs))

    deduped = {str(doc.get("object")) for _, doc in snap.definitions.items("dedupe")} & set(snap.objects)
    importable, readable = allowed(snap.objects, "create"), allowed(snap.objects, "read")
    return {**(import_paths(importable) if importable else {}),
            **(export_paths(readable) if readable else {}),
            **dedupe_paths(allowed(deduped, "read"), allowed(deduped, "update", "delete"),
                           allowed(deduped, "update"))}

