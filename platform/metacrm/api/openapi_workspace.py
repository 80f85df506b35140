"""OpenAPI paths of the rep's workspace: titles, lookup, search, home, tags, trash, conversion, views,
export jobs (api/workspace.py and its siblings)."""

from __future__ import annotations

from typing import Any

from ..auth.principal import Principal
from ..engines.conversion import conversion_for
from ..store.definitions import Snapshot
from .openapi_data_factory import data_factory_paths, file_response
from .openapi_records import ID_PARAM, ok, operation, page_of, ref

LABEL = {"type": "object", "additionalProperties": {"type": "string"}}
TITLE = {"type": "object", "required": ["title", "subtitle"], "properties": {
    "title": {"type": "string"}, "subtitle": {"type": ["string", "null"]}}}
HIT = {"type": "object", "required": ["id", "title", "subtitle"], "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "subtitle": {"type": ["string", "null"]}}}
HITS = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": HIT}}}
TASK = {"type": "object", "required": ["id", "title", "due_at", "record"], "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "due_at": {"type": ["string", "null"]},
    "record": {"type": ["object", "null"], "required": ["object", "id", "title"], "properties": {
        "object": {"type": "string"}, "id": {"type": "integer"}, "title": {"type": "string"}}}}}
HOME = {"type": "object", "required": ["leads_due", "opportunities_by_stage", "tasks", "unread_notifications"],
        "properties": {
            "leads_due": {"type": "array", "items": {**HIT, "required": ["id", "title", "subtitle", "due_at"],
                                                     "properties": {**HIT["properties"],
                                                                    "due_at": {"type": ["string", "null"]}}}},
            "opportunities_by_stage": {"type": "array", "items": {
                "type": "object", "required": ["stage", "label", "count", "amount"], "properties": {
                    "stage": {"type": "string"}, "label": LABEL, "count": {"type": "integer"},
                    "amount": {"type": ["string", "null"]}}}},
            "tasks": {"type": "object", "required": ["overdue", "today"], "properties": {
                "overdue": {"type": "array", "items": TASK}, "today": {"type": "array", "items": TASK}}},
            "unread_notifications": {"type": "integer"}}}
TAG = {"type": "object", "required": ["name", "label", "group", "automatic"], "properties": {
    "name": {"type": "string"}, "label": LABEL, "group": {"type": ["string", "null"]},
    "automatic": {"type": "boolean"}}}
Q = {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}}
RULE = {"type": ["object", "null"], "description": "A rule (see the rule language), or null"}
SHARED = {"type": "object", "properties": {"roles": {"type": "array", "items": {"type": "string"}},
                                           "teams": {"type": "array", "items": {"type": "string"}}}}
VIEW = {"type": "object", "required": ["id", "object", "name", "columns", "sort", "filter", "owner", "shared", "mine",
                                       "builtin"], "properties": {
    "id": {"type": ["integer", "string"]}, "object": {"type": "string"}, "name": {"type": "string"},
    "label": LABEL, "columns": {"type": ["array", "null"], "items": {"type": "string"}},
    "sort": {"type": ["string", "null"]}, "filter": RULE,
    "owner": {"type": ["object", "null"], "required": ["id", "name"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}}},
    "shared": {**SHARED, "required": ["roles", "teams"]}, "mine": {"type": "boolean"}, "builtin": {"type": "boolean"}}}
VIEW_INPUT = {"type": "object", "properties": {
    "object": {"type": "string"}, "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "columns": {"type": ["array", "null"], "maxItems": 100, "items": {"type": "string"}},
    "sort": {"type": ["string", "null"], "maxLength": 500}, "filter": RULE, "shared": SHARED}}
EXPORT_JOB = {"type": "object", "required": ["id", "status", "rows_done", "rows_total", "error"], "properties": {
    "id": {"type": "integer"}, "object": {"type": "string"}, "format": {"type": "string"},
    "status": {"enum": ["pending", "running", "done", "failed"]}, "rows_done": {"type": "integer"},
    "rows_total": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}}}
EXPORT_ID = {"name": "export_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}
VIEW_ID = {"name": "view_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}


def _limit(high: int) -> dict[str, Any]:
    return {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": high}}


def _object_param() -> dict[str, Any]:
    return {"name": "object", "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def workspace_paths(snap: Snapshot, who: Principal) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/titles": {"post": operation(
            "titles", "workspace", "Titles of relation values: {object: [ids]} (at most 500 ids per object)",
            ok("Titles by object and id (ids the caller may not read are absent)", {
                "type": "object", "additionalProperties": {"type": "object", "additionalProperties": TITLE}}),
            (400, 401, 404, 415, 422), {"type": "object", "additionalProperties": {
                "type": "array", "maxItems": 500, "items": {"type": "integer", "minimum": 1}}})},
        "/region-labels": {"get": operation(
            "region_labels", "workspace", "Names of region values (GB/T 2260 codes) in my language",
            ok("Labels by value (a value that is no known code comes back as it is)", {
                "type": "object", "required": ["labels"], "properties": {"labels": {
                    "type": "object", "additionalProperties": {"type": "string"}}}}), (400, 401, 422),
            params=[{"name": "codes", "in": "query", "required": True, "description": "comma-separated, at most 500",
                     "schema": {"type": "string", "maxLength": 10000}},
                    {"name": "language", "in": "query", "schema": {"enum": ["en", "zh"]}}])},
        "/lookup/{object}": {"get": operation(
            "lookup", "workspace", "Picker: records (or active users) whose title, phone or company contains q",
            ok("Matches", HITS), (400, 401, 403, 404), params=[_object_param(), Q, _limit(100)])},
        "/search": {"get": operation(
            "search", "workspace", "Global search over every object I may read (names, phones, e-mails, companies)",
            ok("Hits grouped by object", {"type": "object", "required": ["groups"], "properties": {"groups": {
                "type": "array", "items": {"type": "object", "required": ["object", "label", "items"], "properties": {
                    "object": {"type": "string"}, "label": LABEL, "items": {"type": "array", "items": HIT}}}}}}),
            (400, 401), params=[Q, _limit(50)])},
        "/home": {"get": operation("home", "workspace", "My day: leads due, open opportunities, tasks, unread",
                                   ok("Home", HOME), (401,))},
        "/tags": {"get": operation(
            "tag_suggestions", "workspace", "Tags of an object whose name or label contains q",
            ok("Tags", {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": TAG}}}), (400, 401, 403, 404),
            params=[{"name": "object", "in": "query", "required": True, "schema": {"type": "string"}}, Q,
                    _limit(500)])},
        "/export-jobs/{export_id}": {"get": operation(
            "export_job", "exports", "Progress of my background export", ok("The export", EXPORT_JOB),
            (401, 404), params=[EXPORT_ID])},
        "/export-jobs/{export_id}/file": {"get": operation(
            "export_job_file", "exports", "The file of my finished export",
            file_response("The file"), (401, 404), params=[EXPORT_ID])},
        "/views": {
            "get": operation("list_views", "views", "Saved views of an object: built-in, mine, shared with me",
                             ok("Views", {"type": "object", "required": ["items"], "properties": {
                                 "items": {"type": "array", "items": VIEW}}}), (400, 401, 403, 404),
                             params=[{"name": "object", "in": "query", "required": True,
                                      "schema": {"type": "string"}}]),
            "post": operation("create_view", "views", "Save a view (only administrators share it)",
                              ok("Created", VIEW), (400, 401, 403, 404, 415, 422),
                              {**VIEW_INPUT, "required": ["object", "name"]}, status="201")},
        "/views/{view_id}": {
            "put": operation("update_view", "views", "Change my view (administrators: any view)", ok("Saved", VIEW),
                             (400, 401, 403, 404, 415, 422), VIEW_INPUT, params=[VIEW_ID]),
            "delete": operation("delete_view", "views", "Delete my view (administrators: any view)",
                                ok("Deleted", {"type": "object", "required": ["deleted"], "properties": {
                                    "deleted": {"type": "integer"}}}), (401, 403, 404), params=[VIEW_ID])},
    }
    for obj in snap.objects.values():
        perm = who.permission(obj.name)
        conversion = conversion_for(snap, obj.name)
        if conversion is not None and perm.read and perm.update:
            keys = {t["key"]: {"type": "boolean"} for t in conversion["targets"]}
            paths[f"/conversions/{obj.name}"] = {"get": operation(
                f"conversion_of_{obj.name}", obj.name, f"What converting a {obj.name} creates (targets, labels, mapping)",
                ok("The conversion, or null", {"type": "object", "required": ["conversion"], "properties": {
                    "conversion": {"type": ["object", "null"]}}}), (401, 403, 404))}
            paths[f"/records/{obj.name}/{{id}}/convert"] = {"parameters": [ID_PARAM], "post": operation(
                f"convert_{obj.name}", obj.name, f"Convert a {obj.name} ({conversion['name']} mapping)",
                ok("The new records' ids by target", {"type": "object", "required": list(keys), "properties": {
                    k: {"type": ["integer", "null"]} for k in keys}}),
                (400, 401, 403, 404, 409, 415, 422), {"type": "object", "additionalProperties": False,
                                                      "properties": keys}, status="201")}
        if perm.read:  # joins the data factory's GET /exports/{object} (later keys replace earlier ones)
            paths["/exports/{object}"] = {**data_factory_paths(snap, who).get("/exports/{object}", {}), "post": operation(
                "start_export", "exports", "Export records of an object in the background",
                ok("The queued export", EXPORT_JOB), (400, 401, 403, 404, 415, 422), {
                    "type": "object", "properties": {
                        "format": {"enum": ["xlsx", "csv"]}, "rule": RULE, "language": {"enum": ["en", "zh"]},
                        "columns": {"type": ["array", "null"], "items": {"type": "string"}},
                        "sort": {"type": ["string", "null"]}}}, params=[_object_param()], status="202")}
        if perm.read and perm.delete:
            paths[f"/records/{obj.name}/trash"] = {"get": operation(
                f"trash_{obj.name}", obj.name, f"Deleted {obj.name} records, newest deleted first",
                ok("A page of deleted records", page_of(ref(obj.name))), (400, 401, 403),
                params=[_limit(1000), {"name": "cursor", "in": "query", "schema": {"type": "string"}}])}
    return paths


__all__ = ["HIT", "HITS", "ID_PARAM", "LABEL", "workspace_paths"]
