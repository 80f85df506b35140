"""`/api/v1/definitions`: admins read every kind and plan and apply changes with the same validation
and version history as schema files (`metacrm metadata plan/apply`); other users read only the
definitions they need, without hidden fields (api.definition_access). Secrets are never returned:
every read masks them (meta.secrets) and a save that sends the mask back keeps the stored value."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, request

from ..errors import BadRequest, NotFound, Problem, ValidationError
from ..meta.kinds import KINDS
from ..meta.packs import parse_json as parse_strict
from ..meta.secrets import masked, secret_pointers
from ..meta.tag_names import is_key, tag_from_text
from ..store import system
from .context import admin_only, principal, services
from .definition_access import for_reader, require_kind_readable
from .errors import caller_language
from .jsonio import bool_arg, json_body

bp = Blueprint("definitions", __name__)

MAX_PLAN_DEFINITIONS = 200


def _kind(name: str) -> Any:
    if name not in KINDS:
        raise NotFound(f"no definition kind '{name[:64]}'", [Problem("kind", "unknown_kind", name[:64])])
    return KINDS[name]


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _not_found(kind: str, name: str) -> NotFound:
    return NotFound(f"no {kind} named '{name[:64]}'", [Problem("name", "not_found", name[:64])])


def _version_dict(row: dict[str, Any], body: bool = False) -> dict[str, Any]:
    out = {"kind": row["kind"], "name": row["name"], "version": row["version"], "checksum": row["checksum"],
           "action": row["action"], "created_at": _iso(row["created_at"]), "created_by": row["created_by"],
           "note": row["note"]}
    if body:
        doc = json.loads(row["body"])
        out["body"] = masked(doc)
        out["secrets"] = secret_pointers(doc)
    return out


@bp.get("/definitions/<kind>")
def list_definitions(kind: str) -> Any:
    who = principal()
    _kind(kind)
    require_kind_readable(who, kind)
    d = system.definitions
    with services().engine.connect() as conn:
        rows = conn.execute(d.select().where(d.c.kind == kind).order_by(d.c.name)).mappings().all()
    items = []
    for r in rows:
        doc = json.loads(r["body"])
        shown = for_reader(kind, doc, who)
        if shown is None:
            continue
        item = {"kind": r["kind"], "name": r["name"], "version": r["version"], "body": shown,
                "secrets": secret_pointers(doc)}
        if who.is_admin:
            item |= {"updated_at": _iso(r["updated_at"]), "updated_by": r["updated_by"]}
        items.append(item)
    return jsonify({"items": items})


@bp.get("/definitions/<kind>/<name>")
def get_definition(kind: str, name: str) -> Any:
    who = principal()
    _kind(kind)
    require_kind_readable(who, kind)
    doc = services().registry.current().definitions.get(kind, name)
    shown = None if doc is None else for_reader(kind, doc, who)
    if shown is None:
        raise _not_found(kind, name)
    return jsonify(shown)


def _definition_body() -> Any:
    """The JSON body, read as strictly as a pack file: a duplicate key (which JSON would silently
    let the last one win) is refused with its name."""
    body = json_body()
    try:
        parse_strict(request.get_data(cache=True).decode("utf-8"))
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON for a definition",
                         [Problem("body", "duplicate_key", str(exc)[:200])]) from None
    return body


@bp.put("/definitions/<kind>/<name>")
@admin_only
def put_definition(kind: str, name: str) -> Any:
    who = principal()
    the_kind = _kind(kind)
    doc = _definition_body()
    if kind == "tag" and not is_key(name) and isinstance(doc, dict) and doc.get("name") == name:
        # a tag named in the user's words: derive its key, keep the text as its label
        defs = services().registry.current().definitions
        name, doc = tag_from_text(defs, doc, name, caller_language())
    if the_kind.id_of(doc) != name:
        raise ValidationError("the document's name does not match the URL",
                              [Problem("/" + the_kind.id_key, "name_mismatch", f"must be '{name[:64]}'")])
    plan = services().metadata.apply([(kind, name, doc)], actor_id=who.id, force=bool_arg("force"),
                                     note="api")
    return jsonify(plan.to_dict())


@bp.post("/definitions/plan")
@admin_only
def plan_definitions() -> Any:
    body = _definition_body()
    items = body.get("definitions")
    if not isinstance(items, list) or not items or len(items) > MAX_PLAN_DEFINITIONS:
        raise BadRequest("'definitions' must be a list of {kind, name, body}",
                         [Problem("definitions", "type", f"1 to {MAX_PLAN_DEFINITIONS} items")])
    incoming = []
    problems = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or \
                not isinstance(item.get("name"), str) or not isinstance(item.get("body"), dict):
            problems.append(Problem(f"/definitions/{i}", "type", "an object with kind, name and body"))
            continue
        if item["kind"] not in KINDS:
            problems.append(Problem(f"/definitions/{i}/kind", "unknown_kind", item["kind"][:64]))
            continue
        if KINDS[item["kind"]].id_of(item["body"]) != item["name"]:
            problems.append(Problem(f"/definitions/{i}/name", "name_mismatch", "the body names another definition"))
            continue
        incoming.append((item["kind"], item["name"], item["body"]))
    if problems:
        raise ValidationError("invalid plan request", problems)
    return jsonify(services().metadata.plan(incoming, force=bool_arg("force")).to_dict())


@bp.get("/definitions/<kind>/<name>/versions")
@admin_only
def list_versions(kind: str, name: str) -> Any:
    _kind(kind)
    rows = services().metadata.history(kind, name)
    if not rows:
        raise _not_found(kind, name)
    return jsonify({"items": [_version_dict(r) for r in rows]})


@bp.get("/definitions/<kind>/<name>/versions/<int(max=1000000000):version>")
@admin_only
def get_version(kind: str, name: str, version: int) -> Any:
    _kind(kind)
    for row in services().metadata.history(kind, name):
        if row["version"] == version:
            return jsonify(_version_dict(row, body=True))
    raise NotFound(f"{kind} {name[:64]} has no version {version}", [Problem("version", "not_found", str(version))])
