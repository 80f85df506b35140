"""`DELETE /api/v1/definitions/<kind>/<name>` (administrators): soft-delete a definition, refused (409,
listing each user) while anything refers to it; `GET .../usage` lists those users first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..engines.definition_delete import delete_definition, references
from ..store.db import reading
from ..store.definitions import read_definitions
from .context import admin_only, principal, services

bp = Blueprint("definition_delete", __name__)


@bp.get("/definitions/<kind>/<name>/usage")
@admin_only
def definition_usage(kind: str, name: str) -> Any:
    with reading(services().engine) as conn:
        return jsonify({"items": references(read_definitions(conn), kind, name)})


@bp.delete("/definitions/<kind>/<name>")
@admin_only
def definition_delete(kind: str, name: str) -> Any:
    who = principal()
    with services().engine.begin() as conn:
        done = delete_definition(conn, kind, name, who.id)
    done.pop("body", None)
    return jsonify(done)
