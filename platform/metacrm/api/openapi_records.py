"""The per-object part of the OpenAPI document: one component per object, paths per object.

Built from the live metadata for one caller: objects they cannot read are left out, hidden
fields disappear from every schema, read-only fields from the input schemas.
"""

from __future__ import annotations

from typing import Any

from ..auth.permissions import Permission
from ..meta.objects import ObjectDef

MAX_ID = 2**63 - 1
SYSTEM_READ = {
    "id": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "created_by": {"type": ["integer", "null"]},
    "owner_id": {"type": ["integer", "null"]},
    "version": {"type": "integer"},
    "deleted_at": {"type": ["string", "null"], "format": "date-time"},
}
_READ_KEYWORDS = ("type", "format", "items")


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def ok(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": json_content(schema)}
    if headers:
        out["headers"] = headers
    return out


def problems(*codes: int) -> dict[str, Any]:
    texts = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
             409: "Conflict", 413: "Body too large", 415: "Not JSON", 422: "Invalid input",
             428: "If-Match required", 429: "Too many attempts (Retry-After)", 503: "Unavailable"}
    out = {str(c): {"description": texts[c], "content": {"application/problem+json": {"schema": ref("Problem")}}}
           for c in codes}
    out["default"] = {"description": "Error", "content": {"application/problem+json": {"schema": ref("Problem")}}}
    return out


def operation(op_id: str, tag: str, summary: str, response: dict[str, Any], errors: tuple[int, ...],
              body: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
              public: bool = False, status: str = "200", content: dict[str, Any] | None = None,
              body_required: bool = True, more: dict[str, Any] | None = None) -> dict[str, Any]:
    """One operation of a fixed path: a JSON `body` schema (or a whole request `content` map), the
    success `response` under `status` (plus `more` successes) and problem+json for `errors`."""
    out: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary,
                           "responses": {status: response, **(more or {}), **problems(*errors)}}
    if body is not None or content is not None:
        out["requestBody"] = {"required": body_required, "content": content or json_content(body or {})}
    if params:
        out["parameters"] = params
    if public:
        out["security"] = []
    return out


def read_schema(obj: ObjectDef, perm: Permission) -> dict[str, Any]:
    """What a record of this object looks like when read (values as stored, so loosely typed)."""
    props: dict[str, Any] = {"id": SYSTEM_READ["id"]}
    for name, f in obj.fields.items():
        if name in perm.hidden:
            continue
        strict = f.value_schema(nullable=True)
        props[name] = {k: strict[k] for k in _READ_KEYWORDS if k in strict}
        if "items" in props[name]:
            props[name]["items"] = {"type": props[name]["items"].get("type", "string")}
        props[name]["title"] = str(dict(f.label).get("en", name))
    props.update({k: v for k, v in SYSTEM_READ.items() if k != "id"})
    props["tags"] = {"type": "array", "items": {"type": "string"}}
    return {"type": "object", "title": str(dict(obj.label).get("en", obj.name)), "properties": props,
            "required": ["id"], "x-object": obj.name}


def input_schema(obj: ObjectDef, perm: Permission, partial: bool) -> dict[str, Any]:
    schema = obj.record_schema(partial=partial)
    blocked = perm.hidden | perm.readonly
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in blocked}
    if "required" in schema:
        schema["required"] = [n for n in schema["required"] if n not in blocked]
    return schema


def object_components(obj: ObjectDef, perm: Permission) -> dict[str, Any]:
    return {obj.name: read_schema(obj, perm),
            f"{obj.name}.create": input_schema(obj, perm, partial=False),
            f"{obj.name}.update": input_schema(obj, perm, partial=True)}


ID_PARAM = {"name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": True,
            "description": 'The ETag of the version you read, e.g. "3"', "schema": {"type": "string"}}
ETAG = {"ETag": {"description": "The record version, quoted", "schema": {"type": "string"}}}
LIST_PARAMS = [
    {"name": "filter", "in": "query", "description": "A rule (JSON) over the object's fields, tags and "
     "related records", "schema": {"type": "string"}},
    {"name": "sort", "in": "query", "description": "Comma-separated fields, '-' for descending",
     "schema": {"type": "string"}},
    {"name": "fields", "in": "query", "description": "Comma-separated fields to return",
     "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
    {"name": "cursor", "in": "query", "description": "next_cursor of the previous page",
     "schema": {"type": "string"}},
    {"name": "count", "in": "query", "schema": {"type": "boolean", "default": False}},
]


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": item},
                           "next_cursor": {"type": ["string", "null"]}, "count": {"type": "integer"}}}


EVENT = {"type": "object", "required": ["id", "kind", "at"], "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
    "actor_id": {"type": ["integer", "null"]}, "changes": {"type": ["object", "null"]},
    "context": {"type": ["object", "null"]}}}
TAGS = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}
TAG_NAMES = {"type": "object", "required": ["tags"], "properties": {
    "tags": {"type": "array", "maxItems": 100, "items": {"type": "string"}}}}


def object_paths(obj: ObjectDef, perm: Permission) -> dict[str, Any]:
    """The record endpoints of one object, with its own schemas."""
    n = obj.name
    tag = [n]
    record = ref(n)
    base, item = f"/records/{n}", f"/records/{n}/{{id}}"
    paths: dict[str, Any] = {base: {}, item: {"parameters": [ID_PARAM]}}
    if perm.read:
        paths[base]["get"] = {"operationId": f"list_{n}", "tags": tag, "summary": f"List {n} records",
                              "parameters": LIST_PARAMS,
                              "responses": {"200": ok("A page of records", page_of(record)),
                                            **problems(400, 401, 403, 404, 422)}}
        paths[item]["get"] = {"operationId": f"get_{n}", "tags": tag, "summary": f"Read one {n}",
                              "responses": {"200": ok("The record with its tags", record, ETAG),
                                            **problems(401, 403, 404)}}
        paths[f"{item}/timeline"] = {"parameters": [ID_PARAM], "get": {
            "operationId": f"timeline_{n}", "tags": tag, "summary": f"Events of one {n}, newest first",
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                        "maximum": 500}},
                           {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": ok("Events", page_of(EVENT)), **problems(400, 401, 403, 404)}}}
        paths[f"{item}/tags"] = {"parameters": [ID_PARAM], "get": {
            "operationId": f"tags_{n}", "tags": tag, "summary": "The record's tags",
            "responses": {"200": ok("Tags", TAGS), **problems(401, 403, 404)}}}
    if perm.create:
        paths[base]["post"] = {
            "operationId": f"create_{n}", "tags": tag, "summary": f"Create a {n}",
            "requestBody": {"required": True, "content": json_content(ref(f"{n}.create"))},
            "responses": {"201": ok("Created", record, ETAG), **problems(400, 401, 403, 409, 415, 422)}}
        paths[f"{base}/bulk"] = {"post": {
            "operationId": f"bulk_create_{n}", "tags": tag, "summary": f"Create many {n} records",
            "requestBody": {"required": True, "content": json_content({
                "type": "object", "required": ["records"], "properties": {
                    "records": {"type": "array", "minItems": 1, "items": ref(f"{n}.create")},
                    "skip_invalid": {"type": "boolean"}}})},
            "responses": {"201": ok("Created", {"type": "object", "required": ["created", "ids", "errors"],
                                                "properties": {"created": {"type": "integer"},
                                                               "ids": {"type": "array", "items": {
                                                                   "type": ["integer", "null"]}},
                                                               "errors": {"type": "object"}}}),
                          **problems(400, 401, 403, 409, 415, 422)}}}
    if perm.update:
        paths[item]["patch"] = {
            "operationId": f"update_{n}", "tags": tag, "summary": f"Change fields of a {n}",
            "parameters": [IF_MATCH],
            "requestBody": {"required": True, "content": json_content(ref(f"{n}.update"))},
            "responses": {"200": ok("Updated", record, ETAG), **problems(400, 401, 403, 404, 409, 415, 422, 428)}}
        paths[f"{base}/bulk-update"] = {"post": {
            "operationId": f"bulk_update_{n}", "tags": tag, "summary": f"Change or tag many {n} records",
            "requestBody": {"required": True, "content": json_content({
                "type": "object", "required": ["ids"], "properties": {
                    "ids": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
                    "set": ref(f"{n}.update"), "add_tags": {"type": "array", "items": {"type": "string"}}}})},
            "responses": {"200": ok("Updated", {"type": "object", "properties": {"updated": {"type": "integer"}}}),
                          **problems(400, 401, 403, 404, 409, 415, 422)}}}
        paths.setdefault(f"{item}/tags", {"parameters": [ID_PARAM]})["post"] = {
            "operationId": f"add_tags_{n}", "tags": tag, "summary": "Add tags",
            "requestBody": {"required": True, "content": json_content(TAG_NAMES)},
            "responses": {"200": ok("Tags", TAGS), **problems(400, 401, 403, 404, 415, 422)}}
        paths[f"{item}/tags/{{tag}}"] = {"parameters": [ID_PARAM], "delete": {
            "operationId": f"remove_tag_{n}", "tags": tag, "summary": "Remove a tag",
            "parameters": [{"name": "tag", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": ok("Tags", TAGS), **problems(401, 403, 404, 422)}}}
    if perm.delete:
        paths[item]["delete"] = {
            "operationId": f"delete_{n}", "tags": tag, "summary": f"Delete a {n} (soft; restorable)",
            "parameters": [IF_MATCH],
            "responses": {"200": ok("Deleted", record, ETAG), **problems(400, 401, 403, 404, 409, 428)}}
        paths[f"{item}/restore"] = {"parameters": [ID_PARAM], "post": {
            "operationId": f"restore_{n}", "tags": tag, "summary": f"Restore a deleted {n}",
            "responses": {"200": ok("Restored", record, ETAG), **problems(401, 403, 404, 409)}}}
    return {p: v for p, v in paths.items() if set(v) - {"parameters"}}
