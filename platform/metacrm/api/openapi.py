"""The OpenAPI 3.1 document of `/api/v1`, generated per caller from the live metadata.

Fixed endpoints (auth, objects, segments, forms, definitions, users) are described here; each
object adds a component and its record paths (openapi_records.py). The document validates with
openapi-spec-validator (tests/api/test_openapi.py) and drives the schemathesis run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, current_app, jsonify

from .. import __version__
from ..auth.principal import Principal
from ..store.definitions import Snapshot
from .context import API_PREFIX, admin_only_routes, principal, snapshot
from .openapi_benefits import benefit_paths
from .openapi_data_factory import data_factory_paths
from .openapi_links import link_paths
from .openapi_records import (
    EVENT,
    LIST_PARAMS,
    object_components,
    object_paths,
    ok,
    operation,
    page_of,
)
from .openapi_reports import report_paths
from .openapi_sales import sales_paths
from .openapi_workflows import workflow_paths
from .openapi_workspace import workspace_paths

bp = Blueprint("openapi", __name__)

PROBLEM = {"type": "object", "required": ["type", "title", "status", "code", "errors"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "code": {"type": "string"}, "errors": {"type": "array", "items": {
        "type": "object", "required": ["field", "code", "message"], "properties": {
            "field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
            "stage": {"type": "string", "description": "A refused stage move: the stage it was moving to."}}}}}}
USER = {"type": "object", "required": ["id", "username"], "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
    "email": {"type": ["string", "null"]}, "language": {"type": "string"},
    "time_zone": {"type": ["string", "null"], "description": "IANA zone; null: the installation's or the browser's"},
    "is_admin": {"type": "boolean"},
    "roles": {"type": "array", "items": {"type": "string"}}}}
PERMISSION = {"type": "object", "properties": {
    "read": {"type": "boolean"}, "create": {"type": "boolean"}, "update": {"type": "boolean"},
    "delete": {"type": "boolean"}, "scope": {"enum": ["own", "team", "all"]},
    "hidden_fields": {"type": "array", "items": {"type": "string"}},
    "readonly_fields": {"type": "array", "items": {"type": "string"}}}}
TOKEN = {"type": "object", "required": ["id", "name"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"},
    "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]},
    "revoked": {"type": "boolean"}, "token": {"type": "string"}}}
OBJECT_SUMMARY = {"type": "object", "required": ["name", "label"], "properties": {
    "name": {"type": "string"}, "label": {"type": "object"}, "plural_label": {"type": "object"},
    "title_field": {"type": ["string", "null"]}}}
STRINGS = {"type": "array", "items": {"type": "string"}}
FIELD_PROBLEM = {"type": "object", "required": ["field", "code", "message"], "properties": {
    "field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}
PLAN = {"type": "object", "required": ["changed", "changes", "problems"], "properties": {
    "changed": {"type": "boolean"},
    "changes": {"type": "array", "items": {"type": "object", "required": ["kind", "name", "action"], "properties": {
        "kind": {"type": "string"}, "name": {"type": "string"}, "action": {"type": "string"},
        "diff": STRINGS, "table": STRINGS}}},
    "problems": {"type": "array", "items": FIELD_PROBLEM}, "warnings": {"type": "array", "items": FIELD_PROBLEM}}}
VERSION = {"type": "object", "required": ["kind", "name", "version"], "properties": {
    "kind": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"},
    "checksum": {"type": "string"}, "action": {"type": "string"}, "created_at": {"type": "string"},
    "created_by": {"type": ["integer", "null"]}, "note": {"type": ["string", "null"]}, "body": {"type": "object"}}}
def items_of(item: dict[str, Any]) -> dict[str, Any]:
    """A response {items: [item, ...]}."""
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": item}}}


DEFINITION = {"type": "object", "required": ["kind", "name", "version", "body"], "properties": {
    "kind": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"},
    "body": {"type": "object"}, "secrets": STRINGS, "updated_at": {"type": "string"},
    "updated_by": {"type": ["integer", "null"]}}}
USER_PICK = {"type": "object", "required": ["id", "username"], "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": ["string", "null"]}}}
FIELD = {"type": "object", "required": ["name", "type", "label", "required"], "properties": {
    "name": {"type": "string"}, "type": {"type": "string"}, "label": {"type": "object"},
    "required": {"type": "boolean"}, "unique": {"type": "boolean"},
    "options": {"type": "array", "items": {"type": ["string", "integer", "number", "boolean"]}},
    "option_labels": {"type": "object"}, "target": {"type": ["string", "null"]}, "readonly": {"type": "boolean"},
    "widget": {"type": ["string", "null"]}, "operators": STRINGS, "help": {"type": "object"}}}
ANY_OBJECT = {"type": "object"}
AUDIT_PARAMS = [
    {"name": "object", "in": "query", "schema": {"type": "string"}},
    {"name": "record_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2**62}},
    {"name": "actor_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2**62}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]


def _path(name: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def fixed_paths() -> dict[str, Any]:
    kind, name = _path("kind", "A definition kind: object, form, tag, segment, ..."), _path("name")
    return {
        "/auth/login": {"post": operation(
            "login", "auth", "Log in (sets the session cookie)",
            ok("Logged in", {"type": "object", "required": ["user", "csrf_token"],
                             "properties": {"user": USER, "csrf_token": {"type": "string"}}}),
            (400, 401, 415, 429), {"type": "object", "required": ["username", "password"], "properties": {
                "username": {"type": "string"}, "password": {"type": "string"}}}, public=True)},
        "/auth/logout": {"post": operation("logout", "auth", "Log out", ok("Logged out", ANY_OBJECT), (), public=True)},
        "/auth/logout-everywhere": {"post": operation(
            "logout_everywhere", "auth", "End every session of the caller (every browser)",
            ok("Logged out everywhere", ANY_OBJECT), (401, 403))},
        "/me": {"get": operation("me", "auth", "The caller, their roles and permissions per object", ok("Me", {
            **USER, "properties": {**USER["properties"], "csrf_token": {"type": ["string", "null"]},
                                   "default_time_zone": {"type": "string"},
                                   "permissions": {"type": "object", "additionalProperties": PERMISSION}}}),
            (401,))},
        "/auth/tokens": {
            "get": operation("list_tokens", "auth", "My API tokens", ok("Tokens", items_of(TOKEN)), (401,)),
            "post": operation("create_token", "auth", "Create an API token (shown once)", ok("Created", TOKEN),
                        (400, 401, 403, 415, 422), {"type": "object", "required": ["name"], "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 100}}}, status="201")},
        "/auth/tokens/{token_id}": {"delete": operation(
            "revoke_token", "auth", "Revoke one of my tokens", ok("Revoked", ANY_OBJECT), (401, 403, 404),
            params=[{"name": "token_id", "in": "path", "required": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}])},
        "/objects": {"get": operation("list_objects", "objects", "Objects I may read",
                                ok("Objects", {"type": "array", "items": OBJECT_SUMMARY}), (401,))},
        "/objects/{object}": {"get": operation(
            "get_object", "objects", "An object's schema, fields and forms", ok("Object", {
                **OBJECT_SUMMARY, "required": ["name", "schema", "fields", "forms"],
                "properties": {**OBJECT_SUMMARY["properties"], "schema": ANY_OBJECT,
                               "fields": {"type": "array", "items": FIELD},
                               "forms": {"type": "array", "items": {"type": "object"}},
                               "default_form": {"type": ["string", "null"]},
                               "permissions": {"type": "object", "required": ["read", "create", "update", "delete"],
                                               "properties": {v: {"type": "boolean"} for v in
                                                              ("read", "create", "update", "delete")}}}}),
            (401, 403, 404), params=[_path("object")])},
        "/segments": {"get": operation("list_segments", "segments", "Segments over objects I may read",
                                 ok("Segments", items_of({"type": "object"})), (401,))},
        "/segments/{name}/count": {"get": operation(
            "segment_count", "segments", "How many records I may see are in the segment",
            ok("Count", {"type": "object", "required": ["count"], "properties": {
                "segment": {"type": "string"}, "object": {"type": "string"}, "count": {"type": "integer"}}}),
            (401, 403, 404, 422), params=[name])},
        "/segments/{name}/records": {"get": operation(
            "segment_records", "segments", "Records in the segment (same parameters as a record list)",
            ok("Records", page_of(ANY_OBJECT)), (400, 401, 403, 404, 422),
            params=[name, *LIST_PARAMS])},
        "/forms/{name}/submit": {"post": operation(
            "submit_form", "forms", "Submit answers: creates the record, sets option tags",
            ok("Created", ANY_OBJECT), (400, 401, 403, 404, 409, 415, 422), ANY_OBJECT,
            params=[name], status="201")},
        "/definitions/plan": {"post": operation(
            "plan_definitions", "definitions", "What applying these definitions would change (admins)",
            ok("Plan", PLAN), (400, 401, 403, 404, 409, 415, 422), {
                "type": "object", "required": ["definitions"], "properties": {"definitions": {
                    "type": "array", "items": {"type": "object", "required": ["kind", "name", "body"],
                                               "properties": {"kind": {"type": "string"},
                                                              "name": {"type": "string"},
                                                              "body": ANY_OBJECT}}}}})},
        "/definitions/{kind}": {"get": operation("list_definitions", "definitions", "Definitions of one kind",
                                           ok("Definitions", items_of(DEFINITION)), (401, 404), params=[kind])},
        "/definitions/{kind}/{name}": {
            "get": operation("get_definition", "definitions", "One definition", ok("Definition", ANY_OBJECT),
                       (401, 404), params=[kind, name]),
            "put": operation("put_definition", "definitions", "Create or change a definition (admins)",
                       ok("Applied plan", PLAN), (400, 401, 403, 404, 409, 415, 422), ANY_OBJECT,
                       params=[kind, name, {"name": "force", "in": "query", "schema": {"type": "boolean"}}])},
        "/definitions/{kind}/{name}/versions": {"get": operation(
            "definition_versions", "definitions", "Version history", ok("Versions", items_of(VERSION)), (401, 404),
            params=[kind, name])},
        "/definitions/{kind}/{name}/versions/{version}": {"get": operation(
            "definition_version", "definitions", "One version with its body", ok("Version", VERSION),
            (401, 404), params=[kind, name, {"name": "version", "in": "path", "required": True,
                                             "schema": {"type": "integer", "minimum": 1, "maximum": 10**9}}])},
        "/users": {"get": operation("list_users", "users", "Active users (owner pickers)", ok("Users", items_of(USER_PICK)),
                              (400, 401), params=[{"name": "q", "in": "query", "schema": {"type": "string"}},
                                                  {"name": "limit", "in": "query", "schema": {
                                                      "type": "integer", "minimum": 1, "maximum": 500}}])},
        "/audit": {"get": operation("audit", "audit", "Who changed what, when, from what to what (admins)",
                              ok("Events", page_of(EVENT)), (400, 401, 403, 404), params=AUDIT_PARAMS)},
        "/openapi.json": {"get": operation("openapi", "docs", "This document", ok("OpenAPI", ANY_OBJECT), (401,))},
    }


def build_openapi(snap: Snapshot, who: Principal, hidden: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """The document `who` is served: objects they may read, without the (METHOD, path) operations in
    `hidden` (the administrators' routes, for anyone else)."""
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    paths = {**fixed_paths(), **workflow_paths(), **data_factory_paths(snap, who), **workspace_paths(snap, who),
             **sales_paths(), **report_paths(), **benefit_paths(), **link_paths(snap, who)}
    for obj in snap.objects.values():
        perm = who.permission(obj.name)
        if not perm.read:
            continue
        schemas.update(object_components(obj, perm))
        paths.update(object_paths(obj, perm))
    for method, path in hidden:
        item = paths.get(path)
        if item is not None:
            item.pop(method.lower(), None)
            if not any(k in item for k in ("get", "put", "post", "patch", "delete")):
                del paths[path]
    return {
        "openapi": "3.1.0",
        "info": {"title": "MetaCRM API", "version": __version__,
                 "description": f"Generated from metadata revision {snap.revision} for {who.username}."},
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API token: metacrm token create"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "Set by POST /auth/login; writes also need X-CSRF-Token"}}},
    }


@bp.get("/openapi.json")
def openapi_json() -> Any:
    who = principal()
    return jsonify(build_openapi(snapshot(), who, () if who.is_admin else admin_only_routes(current_app)))
