"""OpenAPI paths of reports and dashboards (api/reports.py)."""

from __future__ import annotations

from typing import Any

from .openapi_data_factory import file_response
from .openapi_records import ok, operation

ANY = {"type": "object"}
NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
PARAMETERS = {"type": "object", "description": "Values of the report's parameters by name: a date range "
              "{from, to}, an owner (user id or ids), a team (id or name), a field value (or values)."}
RESULT = {"type": "object", "required": ["columns", "rows", "labels", "truncated"], "properties": {
    "report": {"type": ["string", "null"]}, "object": {"type": "string"}, "chart": ANY,
    "columns": {"type": "array", "items": {"type": "object", "required": ["name", "label", "role"], "properties": {
        "name": {"type": "string"}, "label": {"type": "string"}, "role": {"enum": ["dimension", "measure"]},
        "field": {"type": ["string", "null"]}, "agg": {"type": "string"}, "bucket": {"type": ["string", "null"]},
        "type": {"type": "string"}}}},
    "rows": {"type": "array", "items": {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]},
                                        "description": "Dimension keys, then measure values "
                                        "(a ratio over zero is null; '__other__' is top N's rest)."}},
    "labels": {"type": "object", "description": "Per dimension: key -> label in the caller's language "
               "(options, relation titles, users, bins; '' is the empty group)."},
    "truncated": {"type": "boolean"}, "cached": {"type": "boolean"}, "parameters": ANY, "drill": {"type": "boolean"},
    "time_zone": {"type": "string"}}}
RUN = {"type": "object", "properties": {"parameters": PARAMETERS, "limit": {"type": "integer", "minimum": 1},
                                        "language": {"type": "string"}, "cache": {"type": "boolean"}}}
DRILL = {"type": "object", "properties": {
    "parameters": PARAMETERS, "cell": {"type": "object", "description": "{dimension name: key}; a dimension "
                                       "left out is a total over it"},
    "measure": {"type": "string", "description": "Its filter becomes a row filter (a ratio: its denominator's)."}}}
DRILLED = {"type": "object", "required": ["object", "rule"], "properties": {
    "object": {"type": "string"}, "rule": ANY,
    "list": {"type": "string", "description": "GET this: the list's count is the cell's count."}}}


def report_paths() -> dict[str, Any]:
    report = {"type": "object", "description": "A report definition (GET /definitions/report/... documents "
              "its meta-schema; /docs shows it too)"}
    items = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": ANY}}}
    return {
        "/reports": {"get": operation("list_reports", "reports", "Reports I may run (object readable, shared "
                                      "with my roles, no field hidden from me)", ok("Reports", items), (401,))},
        "/reports/preview": {"post": operation(
            "preview_report", "reports", "Run an unsaved definition (the builder's live preview)",
            ok("Result", RESULT), (400, 401, 403, 415, 422),
            {"type": "object", "required": ["definition"], "properties": {**RUN["properties"], "definition": ANY}})},
        "/reports/{name}": {
            "get": operation("get_report", "reports", "A report's definition", ok("Report", ANY),
                             (401, 403, 404), params=[NAME]),
            "put": operation("put_report", "reports", "Save a report (403 naming a field its author may not see; "
                             "only its author or an administrator changes it)", ok("Plan", ANY),
                             (400, 401, 403, 409, 415, 422), report, params=[NAME])},
        "/reports/{name}/run": {"post": operation(
            "run_report", "reports", "Run within my scope: 403 naming a field I may not see, never blanked",
            ok("Result", RESULT), (400, 401, 403, 404, 415, 422), RUN, params=[NAME], body_required=False)},
        "/reports/{name}/drill": {"post": operation(
            "drill_report", "reports", "The rule for one cell's rows, for GET /records/{object}?filter=",
            ok("Rule", DRILLED), (400, 401, 403, 404, 415, 422), DRILL, params=[NAME], body_required=False)},
        "/reports/{name}/export": {"get": operation(
            "export_report", "reports", "The report's table as .xlsx (streamed; a new sheet past the row limit) "
            "or CSV, labels in my language, formulas escaped", file_response("The file"),
            (400, 401, 403, 404, 422), params=[NAME, {"name": "format", "in": "query", "schema": {"enum": ["xlsx", "csv"]}},
                                               {"name": "parameters", "in": "query", "schema": {"type": "string"}},
                                               {"name": "language", "in": "query", "schema": {"type": "string"}}])},
        "/dashboards": {"get": operation("list_dashboards", "reports", "Dashboards of my roles",
                                         ok("Dashboards", items), (401,))},
        "/dashboards/{name}/run": {"post": operation(
            "run_dashboard", "reports", "Every widget in my scope; a widget I may not see carries its problem",
            ok("Widgets", {"type": "object", "required": ["dashboard", "widgets"], "properties": {
                "dashboard": ANY, "widgets": {"type": "array", "items": {"type": "object", "properties": {
                    "report": {"type": "string"}, "result": RESULT, "problem": ANY}}}}}),
            (400, 401, 404, 415, 422), {"type": "object", "properties": {"filters": PARAMETERS,
                                                                         "language": {"type": "string"}}},
            params=[NAME], body_required=False)},
    }
