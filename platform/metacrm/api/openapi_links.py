"""OpenAPI paths of many-to-many links (api/links.py): per object and relation name, offered to a
caller who may read both sides (GET) and update the declaring object (POST, PUT, DELETE)."""

from __future__ import annotations

from typing import Any

from ..auth.principal import Principal
from ..store.definitions import Snapshot
from ..store.links import Side, sides_of
from .openapi_records import _READ_KEYWORDS, ID_PARAM, json_content, ok, problems

IDS = {"added": {"type": "array", "items": {"type": "integer"}}, "removed": {"type": "array", "items": {"type": "integer"}}}
OTHER_ID = {"name": "other_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}


def _link_item(s: Side) -> dict[str, Any]:
    props: dict[str, Any] = {"id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                             "created_by": {"type": ["integer", "null"]}}
    for name, f in s.link.columns.fields.items():
        strict = f.value_schema(nullable=True)
        props[name] = {k: strict[k] for k in _READ_KEYWORDS if k in strict}
    return {"type": "object", "required": ["id"], "properties": props}


def link_paths(snap: Snapshot, who: Principal) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for obj in snap.objects.values():
        if not who.permission(obj.name).read:
            continue
        for name, s in sides_of(snap, obj.name).items():
            if not who.permission(s.other_object).read:
                continue
            item = _link_item(s)
            listed = {"type": "object", "required": ["object", "items"], "properties": {
                "object": {"type": "string"}, "items": {"type": "array", "items": item}}}
            base = f"/records/{obj.name}/{{id}}/links/{name}"
            tag = [obj.name]
            paths[base] = {"parameters": [ID_PARAM], "get": {
                "operationId": f"links_{obj.name}_{name}", "tags": tag,
                "summary": f"The {s.other_object} records linked as '{name}' (those I may read)",
                "responses": {"200": ok("Links", listed), **problems(401, 403, 404)}}}
            if not who.permission(s.link.owner).update:
                continue
            body = {"type": "object", "required": ["links"], "properties": {"links": {
                "type": "array", "maxItems": 1000, "description": "ids, or {id, column: value} with the link's columns",
                "items": {"oneOf": [{"type": "integer"}, {**item, "required": ["id"]}]}}}}
            changed = {"type": "object", "required": ["added", "removed", "items"], "properties": {
                **IDS, "items": {"type": "array", "items": item}}}
            for method, verb, summary in (("post", "add", "Add links (an existing one is kept)"),
                                          ("put", "set", "Make these links all of them")):
                paths[base][method] = {"operationId": f"{verb}_links_{obj.name}_{name}", "tags": tag, "summary": summary,
                                       "requestBody": {"required": True, "content": json_content(body)},
                                       "responses": {"200": ok("The links now", changed),
                                                     **problems(400, 401, 403, 404, 415, 422)}}
            paths[f"{base}/{{other_id}}"] = {"parameters": [ID_PARAM, OTHER_ID], "delete": {
                "operationId": f"remove_link_{obj.name}_{name}", "tags": tag, "summary": "Remove one link",
                "responses": {"200": ok("What was removed", {"type": "object", "required": ["added", "removed"],
                                                              "properties": IDS}), **problems(401, 403, 404, 422)}}}
    return paths
